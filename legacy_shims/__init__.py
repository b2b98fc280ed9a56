"""Drop-in legacy import paths (``training.*``, ``packages.core.training.*``), served only when no
real module exists.

Installed at interpreter start-up by the ``pfdtrain-legacy-shims.pth`` file that pfdtrain's wheel
(and editable install) puts into site-packages; the finder is appended to the END of
``sys.meta_path``, so any real module of the same name wins. Where ``.pth`` files are not processed
(``python -S``, ``pip install --target`` + ``PYTHONPATH``, frozen apps) call :func:`install`.
Set ``PFDTRAIN_DISABLE_SHIMS=1`` to make the finder answer nothing.

Importing this package must stay free: it runs at every interpreter start-up.
"""

TYPE_CHECKING = False  # importing this package must stay free (no typing)
if TYPE_CHECKING:
    from legacy_shims.finder import LegacyFinder


def install() -> "LegacyFinder":
    """Append the legacy finder to the end of ``sys.meta_path`` (idempotent); returns it."""
    from legacy_shims import _install

    return _install.install()


def uninstall() -> None:
    """Remove the legacy finder from ``sys.meta_path``."""
    from legacy_shims import _install

    _install.uninstall()
