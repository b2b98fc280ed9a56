"""Run at interpreter start-up by ``pfdtrain-legacy-shims.pth``: append the legacy finder to the
END of ``sys.meta_path``. Imports nothing but :mod:`legacy_shims.finder` (which needs only ``os``
and ``sys``): no torch, no pfdtrain, no ``training``."""

import sys

from legacy_shims.finder import LegacyFinder


def install() -> LegacyFinder:
    """Append the finder to the end of ``sys.meta_path`` unless one is there already. Returns it."""
    for present in sys.meta_path:
        if getattr(present, "_pfdtrain_legacy_finder", False):
            return present  # type: ignore[return-value]  # one of ours (possibly from before a reload)
    finder = LegacyFinder()
    sys.meta_path.append(finder)
    return finder


def uninstall() -> None:
    """Remove every legacy finder from ``sys.meta_path`` (shim modules already imported stay)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "_pfdtrain_legacy_finder", False)]


install()
