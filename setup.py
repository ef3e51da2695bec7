"""vcl_mm's configs and tools ship inside the package, in ``vcl_mm/.mim/``,
as mmdet's do (its ``add_mim_extension``): that is where mmengine resolves
``_base_ = 'vcl_mm::videocutler/...'`` and where ``mim train vcl_mm`` finds
``tools/train.py``. A wheel gets copies; a checkout (and so an editable
install) has ``vcl_mm/.mim/configs`` and ``tools`` as links to the
top-level folders. The wheel also installs ``vcl_mm-config-scope.pth``
(see ``vcl_mm/mmengine_config_scope.py``: mmengine accepts ``pkg::`` names
only from packages it lists); setuptools' editable installs drop files
outside the package, so ``tools/setup/install_env.sh`` writes it there."""
import os
import os.path as osp
import shutil
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, ROOT)  # vcl_mm's root module imports nothing else
from vcl_mm.mmengine_config_scope import PTH_LINE, PTH_NAME  # noqa: E402

MIM_FOLDERS = ('configs', 'tools')


class BuildPyWithMim(build_py):
    """``build_py`` that also copies ``configs/`` and ``tools/`` (and the
    empty model index mmengine reads first) into ``vcl_mm/.mim/`` and writes
    the ``.pth`` file beside the package."""

    def run(self):
        super().run()
        if getattr(self, 'editable_mode', False):
            return
        mim = osp.join(self.build_lib, 'vcl_mm', '.mim')
        for name in MIM_FOLDERS:
            target = osp.join(mim, name)
            if osp.islink(target):
                os.unlink(target)
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(
                osp.join(ROOT, name),
                target,
                ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        shutil.copy(
            osp.join(ROOT, 'vcl_mm', '.mim', 'model-index.yml'),
            osp.join(mim, 'model-index.yml'))
        with open(osp.join(self.build_lib, PTH_NAME), 'w') as f:
            f.write(PTH_LINE)


setup(cmdclass=dict(build_py=BuildPyWithMim))
