import json

import pytest

from helpers import run

LOG = """\
[host] 2026-01-02 10:00:00,000 (cls_train:1) INFO: building the model
[host] 2026-01-02 10:00:05,500 (trainer:336) INFO: 1/3epoch started
[host] 2026-01-02 10:00:09,000 (trainer:394) INFO: 1epoch results: [train] loss=1.0
[host] 2026-01-02 10:00:09,100 (trainer:325) INFO: 2/3epoch started. Estimated time to finish: 7 seconds
[host] 2026-01-02 10:00:13,000 (trainer:394) INFO: 2epoch results: [train] loss=0.9
[host] 2026-01-02 10:00:17,250 (trainer:394) INFO: 3epoch results: [train] loss=0.8
[host] 2026-01-02 10:00:30,000 (average_nbest_models:1) INFO: averaging
"""


def test_compute_time_is_the_training_loop(tmp_path):
    (tmp_path / "train.log").write_text(LOG)
    run(f"python -m espnet2_unlearn.bin.train_report --exp_dir {tmp_path} --process_time_s 42.5 "
        "--num_train_utts 10 --forget_key abc")
    report = json.loads((tmp_path / "train_report.json").read_text())
    assert report["compute_time_s"] == pytest.approx(11.75)
    assert report["process_time_s"] == 42.5 and report["forget_key"] == "abc" and report["num_train_utts"] == 10


def test_a_log_without_epochs_is_an_error(tmp_path):
    (tmp_path / "train.log").write_text("nothing\n")
    proc = run(f"python -m espnet2_unlearn.bin.train_report --exp_dir {tmp_path} --process_time_s 1 "
               "--num_train_utts 1", check=False)
    assert "no epoch start and result lines" in proc.stderr
    assert not (tmp_path / "train_report.json").exists()
