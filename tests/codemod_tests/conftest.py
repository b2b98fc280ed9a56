"""Helpers for the codemod tests (folder named codemod_tests, not codemods: with tests/ on
sys.path a tests/codemods folder could shadow the top-level ``codemods`` package)."""

from __future__ import annotations

from typing import Any

import pytest

from codemods import rewrite_source


def _rewrite(source: str | bytes, **options: Any):
    data = source.encode() if isinstance(source, str) else source
    result = rewrite_source(data, options.pop("path", None), **options)
    assert result.error is None, result.error
    return result


@pytest.fixture
def rewrite():
    """``rewrite(src, **options) -> new source text`` (the input itself when unchanged); checks
    idempotence. Options: ``to_core``, ``replace_deprecated``, ``include_vendored``, ``path``, ``root``."""

    def run(source: str, **options: Any) -> str:
        result = _rewrite(source, **options)
        new = (result.new_source or source.encode()).decode()
        again = _rewrite(new, **options)
        assert again.new_source is None, f"second run changed:\n{again.new_source.decode()}"
        return new

    return run


@pytest.fixture
def findings():
    def run(source: str, **options: Any):
        return _rewrite(source, **options).findings

    return run
