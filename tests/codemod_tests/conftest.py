"""Helpers for the codemod tests (folder named codemod_tests, not codemods: with tests/ on
sys.path a tests/codemods folder could shadow the top-level ``codemods`` package)."""

from __future__ import annotations

import pytest

from codemods import rewrite_source


def _rewrite(source: str | bytes, *, to_core: bool = False, path: str | None = None):
    data = source.encode() if isinstance(source, str) else source
    result = rewrite_source(data, path, to_core=to_core)
    assert result.error is None, result.error
    return result


@pytest.fixture
def rewrite():
    """``rewrite(src) -> new source text`` (the input itself when unchanged); checks idempotence."""

    def run(source: str, *, to_core: bool = False, path: str | None = None) -> str:
        result = _rewrite(source, to_core=to_core, path=path)
        new = (result.new_source or source.encode()).decode()
        again = _rewrite(new, to_core=to_core, path=path)
        assert again.new_source is None, f"second run changed:\n{again.new_source.decode()}"
        return new

    return run


@pytest.fixture
def findings():
    def run(source: str, *, to_core: bool = False, path: str | None = None):
        return _rewrite(source, to_core=to_core, path=path).findings

    return run
