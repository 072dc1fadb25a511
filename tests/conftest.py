import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Recipe files a test recipe directory links to, as an egs2 recipe would.
RECIPE_FILES = ("ser.sh", "run.sh", "path.sh", "cmd.sh", "db.sh", "utils", "local")


def run(cmd, cwd=None, check=True, env=None, **kw):
    """Runs a command through bash, returning the CompletedProcess; on an
    unexpected exit status the assertion shows its output."""
    full_env = dict(os.environ)
    # The commands run with the Python that runs the tests.
    full_env["PATH"] = f"{Path(sys.executable).parent}:{full_env['PATH']}"
    full_env.update(env or {})
    proc = subprocess.run(
        cmd if isinstance(cmd, list) else ["bash", "-c", cmd],
        cwd=cwd, env=full_env, capture_output=True, text=True, **kw
    )
    if check is True:
        assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    elif check is False:
        assert proc.returncode != 0, f"expected failure\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


def make_recipe_dir(path: Path) -> Path:
    """A recipe directory using the project's scripts through symlinks, and
    its own copy of conf/ that a test may edit."""
    path.mkdir(parents=True, exist_ok=True)
    for name in RECIPE_FILES:
        (path / name).symlink_to(ROOT / name)
    subprocess.run(["cp", "-r", str(ROOT / "conf"), str(path / "conf")], check=True)
    return path


@pytest.fixture
def recipe_dir(tmp_path):
    return make_recipe_dir(tmp_path / "recipe")
