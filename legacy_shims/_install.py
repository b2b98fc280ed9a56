"""Run at interpreter start-up by ``pfdtrain-legacy-shims.pth``: append the legacy finder to the
END of ``sys.meta_path``. Imports nothing but :mod:`legacy_shims.finder` (which needs only ``os``
and ``sys``): no torch, no pfdtrain, no ``training``."""

import sys

from legacy_shims.finder import LegacyFinder


def install():
    """Append the finder to the end of ``sys.meta_path`` unless one is there already. Returns it."""
    for finder in sys.meta_path:
        if getattr(finder, "_pfdtrain_legacy_finder", False):
            return finder
    finder = LegacyFinder()
    sys.meta_path.append(finder)
    return finder


def uninstall():
    """Remove every legacy finder from ``sys.meta_path`` (shim modules already imported stay)."""
    sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "_pfdtrain_legacy_finder", False)]


install()
