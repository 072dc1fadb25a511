"""Stage 5 is all or nothing: a full disk, a SIGKILL of the whole process
group or a second run of the same request leaves no half-written
exp/unlearn_<tag>, no orphan still running, and the next run succeeds."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import ROOT, copy_recipe, run
from espnet2_unlearn.data.kaldi_dir import read_table

FAULT_AT = Path(__file__).with_name("fault_at.py")
ARGS = "--max_steps 3 --allow_unreached true"


@pytest.fixture
def recipe(tiny_recipe, tmp_path):
    d = copy_recipe(tiny_recipe[0], tmp_path / "recipe")
    (d / "data/f4").write_text("".join(u + "\n" for u in sorted(read_table(d / "data/train/utt2spk"))[:4]))
    return d


def unlearn_cmd(python="python3", tag="f4", args=ARGS):
    return (f"{ROOT}/unlearn.sh --cls_exp exp/ser_tiny --forget_list data/f4 --unlearn_tag {tag} "
            f"--python '{python}' --unlearn_args '{args}'")


def outputs(d, tag="f4"):
    return sorted(p.name for p in (d / "exp").iterdir() if p.name.startswith((f"unlearn_{tag}", f".unlearn_{tag}.tmp")))


def test_a_full_disk_leaves_no_output_and_says_so(recipe):
    # the last file of the run cannot be written: the disk is full
    proc = run(unlearn_cmd(f"{sys.executable} {FAULT_AT}"), cwd=recipe, check=False,
               env={"FAULT_AT": "enospc:write:process_time.json:1"})
    assert "ERROR" in proc.stderr and "No space left on device" in proc.stderr, proc.stderr
    assert "nothing was published" in proc.stderr
    assert outputs(recipe) == []
    run(unlearn_cmd(), cwd=recipe)
    assert outputs(recipe) == ["unlearn_f4"] and (recipe / "exp/unlearn_f4/process_time.json").stat().st_size > 0


def alive(pattern: str, cwd: Path):
    """Processes whose command line matches and that run in cwd (not another test's)."""
    pids = subprocess.run(["pgrep", "-f", "--", pattern], capture_output=True, text=True).stdout.split()
    here = []
    for pid in pids:
        try:
            if os.path.realpath(f"/proc/{pid}/cwd") == os.path.realpath(cwd):
                here.append(pid)
        except OSError:
            pass
    return here


def test_a_kill_of_the_whole_process_group_leaves_no_orphan_and_no_output(recipe):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    proc = subprocess.Popen(["bash", "-c", unlearn_cmd(args="--max_steps 400 --allow_unreached true")], cwd=recipe,
                            env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    log = recipe / "exp/logs/unlearn_f4.log"
    deadline = time.time() + 300
    while time.time() < deadline and not (log.exists() and "step 1/" in log.read_text(errors="replace")):
        time.sleep(0.5)
    assert "step 1/" in log.read_text(errors="replace")
    assert alive("unlearn_train.*output_dir exp/unlearn_f4", recipe)  # the job runs, in a process group of its own
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(3)  # run.pl's job notices that run.pl is gone within a second
    assert not alive("unlearn_train.*output_dir exp/unlearn_f4", recipe)
    assert "unlearn_f4" not in outputs(recipe)  # nothing published, then or later
    # the next run of the request clears what the dead one left and finishes
    run(unlearn_cmd(), cwd=recipe)
    assert outputs(recipe) == ["unlearn_f4"]


def test_two_runs_of_one_request_started_together(recipe):
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    procs = [subprocess.Popen(["bash", "-c", unlearn_cmd()], cwd=recipe, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(), *p.communicate()) for p in procs]
    codes = sorted(r[0] for r in results)
    assert codes[0] == 0 and codes[1] != 0, results
    refused = next(r for r in results if r[0] != 0)
    assert "is running already (pid " in refused[2]
    assert outputs(recipe) == ["unlearn_f4"] and not (recipe / "exp/.unlearn_f4.lock").exists()
    winner = next(r for r in results if r[0] == 0)
    assert "Unlearned model: exp/unlearn_f4/unlearned.pth" in winner[1]
    # the published run's log is its own: the refused run wrote no log over it
    assert "# Ended (code 0)" in (recipe / "exp/logs/unlearn_f4.log").read_text()
