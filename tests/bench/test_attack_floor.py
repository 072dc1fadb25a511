"""bench/attack_floor.py on decodings as cls_inference writes them: member
seeds that are surer of the forget utterances separate from retrained ones,
and a seed-wide shift of one class is what the class-calibrated attacker
takes out."""

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import attack_floor  # noqa: E402

CLASSES = ["angry", "happy", "neutral", "sad"]


def write_decoding(d: Path, utts, labels, true_prob):
    pred = d / "decode_train.loss.ave/train/prediction"
    pred.mkdir(parents=True)
    lines = []
    for u, y, p in zip(utts, labels, true_prob):
        probs = np.full(4, (1 - p) / 3)
        probs[y] = p
        lines.append(f"{u} " + " ".join(f"{v:.6f}" for v in probs))
    (pred / "score").write_text("\n".join(lines) + "\n")


def make_models(root: Path, class_shift: float):
    rng = np.random.default_rng(0)
    utts = [f"spk01_{c}_{i:03d}" for c in CLASSES for i in range(30)]
    labels = np.repeat(np.arange(4), 30)
    forget = utts[::3]
    (root / "dump/fbank/train").mkdir(parents=True)
    (root / "dump/fbank/train/text").write_text("".join(f"{u} {CLASSES[y]}\n" for u, y in zip(utts, labels)))
    (root / "forget").write_text("".join(f"{u}\n" for u in forget))
    (root / "token_list").write_text("\n".join(CLASSES + ["<unk>"]) + "\n")
    base = rng.normal(0, 1, len(utts))
    is_forget = np.isin(utts, forget)
    for name, member in [("exp/src", True), ("exp/gold", False)] + [(f"exp/src_seed{k}", True) for k in (1, 2, 3)] \
            + [(f"exp/gold_seed{k}", False) for k in (1, 2, 3)]:
        # each model: a seed-wide shift of one class (sometimes large), members surer of the forget set
        shift = np.where(labels == rng.integers(4), class_shift * rng.normal(), 0.0)
        logit = base + shift + rng.normal(0, 0.3, len(utts)) + (1.5 * is_forget if member else 0.0)
        write_decoding(root / name, utts, labels, 1 / (1 + np.exp(-logit)))


def test_members_separate_from_retrained_seeds(tmp_path, monkeypatch, capsys):
    make_models(tmp_path, class_shift=0.0)
    monkeypatch.chdir(tmp_path)
    attack_floor.main(["toy:exp/src:exp/gold:forget", "--seeds", "1", "2", "3", "--token_list", "token_list",
                       "--output", "FLOOR.md"])
    rows = [r for r in Path("FLOOR.md").read_text().splitlines() if r.startswith("| toy")]
    assert [r.split(" | ")[2] for r in rows] == ["plain", "class-calibrated"]
    for r in rows:
        cells = r.split(" | ")
        floor_mean = float(cells[4].split(" ± ")[0])
        member_mean = float(cells[6].split(" ± ")[0])
        assert len(cells[3].split(", ")) == 4 and len(cells[5].split(", ")) == 3  # gold + 3 out; 3 in
        assert abs(floor_mean - 0.5) < 0.15 and member_mean > 0.85 and float(cells[7].rstrip(" |")) > 2
    assert "bench/attack_floor.py toy:exp/src" in capsys.readouterr().out


def test_calibration_takes_out_seed_wide_class_shifts(tmp_path, monkeypatch):
    make_models(tmp_path, class_shift=3.0)
    monkeypatch.chdir(tmp_path)
    attack_floor.main(["toy:exp/src:exp/gold:forget", "--seeds", "1", "2", "3", "--token_list", "token_list",
                       "--output", "FLOOR.md"])
    plain, calibrated = [r.split(" | ") for r in Path("FLOOR.md").read_text().splitlines() if r.startswith("| toy")]
    sd = [float(r[4].split(" ± ")[1]) for r in (plain, calibrated)]
    assert sd[1] < sd[0]
