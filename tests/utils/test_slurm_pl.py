"""slurm.pl against a fake sbatch that runs the submitted array locally."""

import json

from helpers import ROOT, run

SLURM_PL = str(ROOT / "utils" / "slurm.pl")

def calls(record):
    return [json.loads(line) for line in record.read_text().splitlines()]


def test_array_job_runs_every_task_with_options_from_conf(tmp_path, cluster):
    env, record = cluster
    work = tmp_path / "work"
    work.mkdir()
    run(
        [SLURM_PL, "--config", str(ROOT / "conf/slurm.conf"), "--mem", "4G", "--num-threads", "2",
         "--time", "2:00:00", "--gpu", "1", "--name", "feats",
         "JOB=1:3", "log/make.JOB.log", "echo", "part", "JOB", ">", "out.JOB"],
        cwd=work, env=env,
    )
    for i in (1, 2, 3):
        assert (work / f"out.{i}").read_text() == f"part {i}\n"
        log = (work / f"log/make.{i}.log").read_text()
        assert f"# echo part {i} > out.{i}" in log
        assert "# Ended (code 0)" in log
    (args,) = calls(record)
    line = " ".join(args)
    assert args[0] == "--export=ALL"
    for expected in ("--mem=4G", "--cpus-per-task=2", "--time=2:00:00", "--partition=gpu",
                     "--gres=gpu:1", "--job-name=feats", "--array=1-3"):
        assert expected in line


def test_defaults_apply_when_options_are_not_given(tmp_path, cluster):
    env, record = cluster
    run([SLURM_PL, "--config", str(ROOT / "conf/slurm.conf"), str(tmp_path / "single.log"), "echo", "hello"],
        cwd=tmp_path, env=env)
    (args,) = calls(record)
    assert "--cpus-per-task=1" in args and "--job-name=espnet_unlearn" in args
    assert not any(a.startswith("--gres") or a.startswith("--array") for a in args)
    assert "hello" in (tmp_path / "single.log").read_text()


def test_a_failed_task_fails_the_submission(tmp_path, cluster):
    env, _ = cluster
    proc = run(
        [SLURM_PL, "--config", str(ROOT / "conf/slurm.conf"), "JOB=1:4", "log/t.JOB.log", "test", "JOB", "-ne", "3"],
        cwd=tmp_path, env=env, check=False,
    )
    assert "1 / 4 failed" in proc.stderr and "log/t.3.log" in proc.stderr
    assert "# Ended (code 1)" in (tmp_path / "log/t.3.log").read_text()


def test_option_missing_from_conf_is_an_error(tmp_path, cluster):
    env, record = cluster
    proc = run([SLURM_PL, "--config", str(ROOT / "conf/slurm.conf"), "--colour", "red", "a.log", "true"],
               cwd=tmp_path, env=env, check=False)
    assert "unknown option --colour" in proc.stderr
    assert not record.exists()


def test_submission_failure_is_reported(tmp_path, cluster):
    env, _ = cluster
    conf = tmp_path / "bad.conf"
    conf.write_text("command false\n")
    proc = run([SLURM_PL, "--config", str(conf), "a.log", "true"], cwd=tmp_path, env=env, check=False)
    assert "submission failed" in proc.stderr
