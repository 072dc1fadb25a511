import re

from helpers import ROOT, run

RUN_PL = str(ROOT / "utils" / "run.pl")


def test_job_range_substitutes_job_in_command_and_log(tmp_path):
    run([RUN_PL, "JOB=2:4", str(tmp_path / "log/x.JOB.log"), "echo", "task", "JOB", ">", str(tmp_path / "out.JOB")])
    for i in (2, 3, 4):
        assert (tmp_path / f"out.{i}").read_text() == f"task {i}\n"
        log = (tmp_path / f"log/x.{i}.log").read_text()
        assert log.startswith(f"# echo task {i} > ")
        assert "# Started at" in log
        assert re.search(r"# Ended \(code 0\) at .+", log)
    assert not (tmp_path / "log/x.1.log").exists()


def test_output_goes_to_the_log(tmp_path):
    log = tmp_path / "one.log"
    run([RUN_PL, str(log), "echo out; echo err >&2"])
    text = log.read_text()
    assert "out\n" in text and "err\n" in text


def test_failure_names_the_failed_logs_and_exits_nonzero(tmp_path):
    proc = run(
        [RUN_PL, "JOB=1:3", str(tmp_path / "f.JOB.log"), "test", "JOB", "-ne", "2"],
        check=False,
    )
    assert "1 / 3 failed" in proc.stderr
    assert str(tmp_path / "f.2.log") in proc.stderr
    assert str(tmp_path / "f.1.log") not in proc.stderr
    assert "# Ended (code 1)" in (tmp_path / "f.2.log").read_text()
    assert "# Ended (code 0)" in (tmp_path / "f.3.log").read_text()


def test_max_jobs_run_bounds_parallel_jobs(tmp_path):
    # Each job records how many jobs are running while it runs.
    counter = tmp_path / "running"
    cmd = (
        f"echo start >> {counter}; sleep 0.3; "
        f"grep -c start {counter} > {tmp_path}/seen.JOB; grep -c end {counter} >> {tmp_path}/seen.JOB; "
        f"echo end >> {counter}"
    )
    run([RUN_PL, "--max-jobs-run", "2", "JOB=1:6", str(tmp_path / "log/j.JOB.log"), cmd])
    for i in range(1, 7):
        started, ended = map(int, (tmp_path / f"seen.{i}").read_text().split())
        assert started - ended <= 2


def test_queue_options_are_accepted(tmp_path):
    run([RUN_PL, "--gpu", "0", "--mem", "2G", "--num-threads", "2", "--time", "1:00:00",
         str(tmp_path / "a.log"), "echo $OMP_NUM_THREADS"])
    assert "\n2\n" in (tmp_path / "a.log").read_text()


def test_unknown_option_and_missing_job_in_log_name(tmp_path):
    proc = run([RUN_PL, "--bogus", "1", str(tmp_path / "a.log"), "true"], check=False)
    assert "unknown option --bogus" in proc.stderr
    proc = run([RUN_PL, "JOB=1:2", str(tmp_path / "a.log"), "true"], check=False)
    assert "must contain JOB" in proc.stderr


def test_term_goes_on_to_the_jobs_which_clean_up(tmp_path):
    import signal
    import subprocess
    import time

    # Each job makes a file and removes it when it gets TERM, as a stage does.
    # (the file appears once the job is waiting, so the TERM finds it ready)
    job = (f"trap 'rm -f {tmp_path}/part.JOB; exit 143' TERM; sleep 60 & touch {tmp_path}/part.JOB; wait")
    proc = subprocess.Popen([RUN_PL, "--max-jobs-run", "2", "JOB=1:2", str(tmp_path / "t.JOB.log"), job])
    for _ in range(600):  # a loaded machine can take seconds to start them
        if all((tmp_path / f"part.{i}").exists() for i in (1, 2)):
            break
        time.sleep(0.1)
    assert all((tmp_path / f"part.{i}").exists() for i in (1, 2))
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 143
    assert not list(tmp_path.glob("part.*"))
    for i in (1, 2):
        assert re.search(r"# Ended \(code 143\)", (tmp_path / f"t.{i}.log").read_text())


def test_jobs_run_side_by_side_whatever_omp_num_threads_says(tmp_path):
    import os
    import subprocess

    import pytest

    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: one job at a time is right")
    # each job waits (5 s at most) for the other to have started
    job = (f"touch {tmp_path}/s.JOB; for i in $(seq 50); do [ -e {tmp_path}/s.1 ] && [ -e {tmp_path}/s.2 ] "
           "&& exit 0; sleep 0.1; done; exit 1")
    subprocess.run([RUN_PL, "JOB=1:2", str(tmp_path / "p.JOB.log"), job], check=True,
                   env={**os.environ, "OMP_NUM_THREADS": "1"})
