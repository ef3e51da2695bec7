"""Running the repository's tools from tests (as a user would)."""
import os
import os.path as osp
import subprocess
import sys
from typing import Optional, Sequence

#: the repository root (tests run from a checkout, vcl_mm installed editable)
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def run_tool(args: Sequence[str],
             timeout: float = 900,
             env_extra: Optional[dict] = None,
             **kwargs) -> subprocess.CompletedProcess:
    """Run ``python ARGS...`` from the repository root.

    Args:
        args (Sequence[str]): a tool path relative to the root and its
            arguments, e.g. ``['tools/train.py', CONFIG]``.
        timeout (float): seconds.
        env_extra (dict, optional): extra environment variables.
        **kwargs: passed to :func:`subprocess.run`.

    Returns:
        subprocess.CompletedProcess: with text ``stdout`` and ``stderr``.
    """
    env = dict(os.environ, PYTHONPATH=REPO_ROOT, OMP_NUM_THREADS='2')
    env.update(env_extra or {})
    return subprocess.run([sys.executable] + list(args),
                          cwd=REPO_ROOT,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=timeout,
                          **kwargs)
