"""bench/attack.py: one table per forget set, every model of the first run
and the unlearned model of each named one, from real stage-6 figures."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import attack  # noqa: E402

from espnet2_unlearn.metrics import lira  # noqa: E402
from espnet2_unlearn.metrics.comparison import compare  # noqa: E402


def scores(acc):
    return {"accuracy": acc, "uar": acc, "macro_f1": acc, "num_utts": 40}


def write_run(d: Path, forget_correct_share: float, steps: int, seed: int):
    """A stage-6 metrics.json of original, unlearned and gold, attacked by lira."""
    rng = np.random.default_rng(seed)
    n, mu = 40, rng.normal(0, 1.5, 40)
    phi_in, phi_out = mu + 2 + rng.normal(0, 0.5, (3, n)), mu + rng.normal(0, 0.5, (3, n))
    phis = {"original": mu + 2 + rng.normal(0, 0.5, n), "unlearned": mu + rng.normal(0, 0.5, n),
            "gold": mu + rng.normal(0, 0.5, n)}
    test = rng.random(400) < 0.6
    outcomes = {m: {"test_refs": np.arange(400) % 4, "test_correct": test,
                    "forget_correct": np.arange(n) < (n if m == "original" else forget_correct_share * n),
                    "forget_called_nonmember": np.arange(n) < n // 2} for m in phis}
    metrics = {"models": {m: {"forget": scores(float(outcomes[m]["forget_correct"].mean())), "retain": scores(1.0),
                              "test": scores(0.6), "mia": {"efficacy": 0.5}} for m in phis}}
    attacked = lira.attack(phis, phi_in, phi_out)
    for m, r in attacked["models"].items():
        metrics["models"][m]["lira"] = r
    metrics["attack_floor"] = attacked["floor"]
    compare(metrics, outcomes)
    (d / "eval").mkdir(parents=True)
    (d / "eval/metrics.json").write_text(json.dumps(metrics))
    (d / "forget_report.json").write_text(json.dumps({"steps": steps}))


def test_tables_per_forget_set(tmp_path, capsys):
    write_run(tmp_path / "default", 0.6, 12, 0)
    write_run(tmp_path / "dist", 0.7, 30, 1)
    out = tmp_path / "ATTACK.md"
    attack.main([f"n40:{tmp_path / 'default'}", f"n40:{tmp_path / 'dist'}=distribution", "--output", str(out)])
    text = out.read_text()
    assert text in capsys.readouterr().out  # printed as written
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| model")]
    assert [r.split(" | ")[0][2:] for r in rows] == ["original", "unlearned", "gold", "distribution"]
    original, unlearned, gold, dist = rows
    assert "attack: " in unlearned and "attack: " in dist and "attack" not in gold.split(" | ")[-1]
    assert unlearned.split(" | ")[9] == "12" and dist.split(" | ")[9] == "30"
    assert float(original.split(" | ")[1].split()[0]) > 0.9  # the members are found in the original
    assert "## n40" in text and text.count("## ") == 1
    assert text.count("Noise floor: 4 retrained seeds score ") == 1  # gold and the three out models


def test_a_run_without_an_evaluation_is_named(tmp_path):
    with pytest.raises(SystemExit, match="eval/metrics.json does not exist"):
        attack.main([f"n40:{tmp_path / 'nothing'}"])


def test_the_first_run_of_a_set_may_name_its_unlearned_model(tmp_path):
    write_run(tmp_path / "dist", 0.7, 30, 1)
    out = tmp_path / "ATTACK.md"
    attack.main([f"n40:{tmp_path / 'dist'}=distribution", "--output", str(out)])
    rows = [line for line in out.read_text().splitlines() if line.startswith("| ") and not line.startswith("| model")]
    assert [r.split(" | ")[0][2:] for r in rows] == ["original", "distribution", "gold"]
    assert rows[1].split(" | ")[9] == "30"
