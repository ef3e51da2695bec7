"""Lets mmengine resolve ``vcl_mm::`` config names (``_base_`` and
``Config.fromfile``) from any entry point, mmdet's own tools included.

mmengine 0.10.x resolves ``package::path`` only for the OpenMMLab packages
listed in ``mmengine.config.utils.MODULE2PACKAGE`` (open-mmlab/mmengine#1410,
unfixed in the last release), and a config's ``_base_`` is read before any
of its ``custom_imports``: the entry must exist before mmengine reads the
first config. ``vcl_mm-config-scope.pth``, installed beside the package,
imports this module at interpreter start. It imports nothing of mmengine: it
adds one import finder that puts the entry into the table right after
``mmengine.config.utils`` is executed, and changes nothing else.

The entry names the module ``vcl_mm.version``, not the distribution:
mmengine looks a name up with pkg_resources first, which for an editable
(PEP 660) install points into site-packages, where there is no
``vcl_mm/.mim``; a module name falls through to
``importlib.util.find_spec``, whose folder is the package's wherever it is
installed (``<package>/.mim/configs`` holds the configs).
"""
import sys

TARGET = 'mmengine.config.utils'
ENTRY = ('vcl_mm', 'vcl_mm.version')


def add_entry(module) -> None:
    """Add vcl_mm to a loaded ``mmengine.config.utils``."""
    module.MODULE2PACKAGE.setdefault(*ENTRY)


class _ConfigScopeFinder:
    """A meta path finder (duck-typed: importlib.abc costs ~25 ms at every
    interpreter start) that finds nothing itself; it wraps the loader of
    ``mmengine.config.utils`` so that :func:`add_entry` runs once the
    module is executed."""

    def find_spec(self, fullname, path, target=None):
        if fullname != TARGET:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, 'find_spec'):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                break
        else:
            return None
        execute = spec.loader.exec_module

        def exec_module(module):
            execute(module)
            add_entry(module)

        spec.loader.exec_module = exec_module
        return spec


def install() -> None:
    """Called by the ``.pth`` file; idempotent."""
    if TARGET in sys.modules:
        add_entry(sys.modules[TARGET])
    elif not any(isinstance(f, _ConfigScopeFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _ConfigScopeFinder())


#: the line of ``vcl_mm-config-scope.pth``
PTH_LINE = 'import vcl_mm.mmengine_config_scope as s; s.install()\n'
PTH_NAME = 'vcl_mm-config-scope.pth'


def write_pth(site_dir=None) -> str:
    """Write the ``.pth`` file into ``site_dir`` (default: this
    interpreter's site-packages), as a wheel install does; an editable
    install (``pip install -e .``) needs this once. Returns its path."""
    import os.path as osp
    import sysconfig
    path = osp.join(site_dir or sysconfig.get_path('purelib'), PTH_NAME)
    with open(path, 'w') as f:
        f.write(PTH_LINE)
    return path
