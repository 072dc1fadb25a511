"""bench/side_by_side.py: one row per forget set, each setting's figures in
the order of --names, a setting without the run shown as '-'."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import side_by_side  # noqa: E402


def make_run(d: Path, steps: int, reached: bool, uar: float):
    (d / "eval").mkdir(parents=True)
    (d / "forget_report.json").write_text(json.dumps(
        {"steps": steps, "target": {"reached": reached}, "compute_time_s": 12.3}))
    (d / "eval/metrics.json").write_text(json.dumps({"models": {"unlearned": {
        "vs": {"original": {"test_uar": {"value": uar, "low": uar - 0.5, "high": uar + 0.5}}},
        "retain": {"accuracy": 0.981}, "mia": {"loss_auc_forget_vs_nonmember": 0.3754}}}}))


def test_rows_per_set_in_the_order_of_the_names(tmp_path, capsys):
    make_run(tmp_path / "u_n50_s0_a", 79, False, -1.04)
    make_run(tmp_path / "u_n50_s0_b", 35, True, 0.2)
    make_run(tmp_path / "u_n10_s0_b", 3, True, 0.0)
    side_by_side.main(["--names", "a", "b", "--prefix", f"{tmp_path}/u_", "--sets", "n10_s0", "n50_s0", "spk01"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("| set | steps (a / b) | reached (a / b)")
    assert lines[2] == "| n10_s0 | - / 3 | - / yes | - / 12 | - / 98.1 | - / +0.0 [-0.5, +0.5] | - / 0.375 |"
    assert lines[3] == ("| n50_s0 | 79 / 35 | **no** / yes | 12 / 12 | 98.1 / 98.1 | -1.0 [-1.5, -0.5] / +0.2 [-0.3, +0.7] "
                        "| 0.375 / 0.375 |")
    assert len(lines) == 4  # spk01 has no run
