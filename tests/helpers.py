"""What the tests share: running commands as a user would, recipe
directories, the tiny corpus and model, a stand-in sbatch."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Recipe files a test recipe directory links to, as an egs2 recipe would.
RECIPE_FILES = ("ser.sh", "run.sh", "unlearn.sh", "path.sh", "cmd.sh", "db.sh", "utils", "local")


def run(cmd, cwd=None, check=True, env=None, **kw):
    """Runs a command through bash, returning the CompletedProcess; on an
    unexpected exit status the assertion shows its output."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    # The commands run with the Python that runs the tests.
    full_env["PATH"] = f"{Path(sys.executable).parent}:{full_env['PATH']}"
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


def copy_recipe(src: Path, dest: Path, names=("conf", "data", "dump", "exp")) -> Path:
    """A recipe dir of its own holding a copy of src's outputs (tests that
    change them must not change a shared fixture)."""
    d = make_recipe_dir(dest)
    subprocess.run(["rm", "-r", str(d / "conf")], check=True)
    for name in names:
        subprocess.run(["cp", "-a", str(src / name), str(d / name)], check=True)
    return d


# Records its arguments, then runs the job script once per array index with
# SLURM_ARRAY_TASK_ID set, writing each task's output where --output says.
FAKE_SBATCH = r"""#!/usr/bin/env python3
import json, os, re, subprocess, sys
args = sys.argv[1:]
with open(os.environ["FAKE_SBATCH_RECORD"], "a") as f:
    f.write(json.dumps(args) + "\n")
script = args[-1]
array = next((a.split("=", 1)[1] for a in args if a.startswith("--array=")), None)
output = next((a.split("=", 1)[1] for a in args if a.startswith("--output=")), "slurm-%a.out")
if array:
    first, last = map(int, re.match(r"(\d+)-(\d+)", array).groups())
    indices = range(first, last + 1)
else:
    indices = [None]
for i in indices:
    env = dict(os.environ)
    if i is not None:
        env["SLURM_ARRAY_TASK_ID"] = str(i)
    with open(output.replace("%a", str(i)), "w") as out:
        subprocess.run(["bash", script], env=env, stdout=out, stderr=subprocess.STDOUT)
print("Submitted batch job 4242")
"""


# A tiny corpus and a small model that trains in seconds yet memorises its
# training utterances (no dropout, enough epochs), like the default model.
TINY_DATA = ('--local_data_opts "--num_speakers 8 --num_valid_speakers 1 --num_test_speakers 1 '
             '--utts_per_emotion 6 --valid_utts_per_emotion 6 --test_utts_per_emotion 6" --heldout_per_spk 4 --nj 2')
TINY_CONFIG = """
seed: 0
batch_type: folded
batch_size: 16
max_epoch: 25
num_workers: 0
num_att_plot: 0
# ESPnet's per-epoch loss plots and TensorBoard logs cost more than the tiny
# model's epoch (56 s against 22 s a training): nothing here reads them
use_matplotlib: false
use_tensorboard: false
best_model_criterion:
-   - train
    - loss
    - min
-   - valid
    - acc
    - max
keep_nbest_models: 2
encoder: transformer
encoder_conf:
    output_size: 64
    attention_heads: 4
    linear_units: 128
    num_blocks: 1
    dropout_rate: 0.0
    positional_dropout_rate: 0.0
    attention_dropout_rate: 0.0
    input_layer: conv1d2
decoder: linear
optim: adam
optim_conf:
    lr: 0.002
scheduler: warmuplr
scheduler_conf:
    warmup_steps: 20
"""
