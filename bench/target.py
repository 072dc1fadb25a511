"""The `auto` forget target against what retraining gives (bench/compare.py's
"The forget target" section): per forget set, the target stage 5 stopped at
(the source model's accuracy on its reference set, with that figure's own 95 %
interval), gold's accuracy on the forget set and gold's accuracy on the same
reference set.  Where they part tells where a gap comes from: gold's
reference accuracy below the target is a gold weaker than the original;
gold's forget accuracy below its own reference accuracy is a forget set
harder than the reference; and the spread of the source model's accuracy over
smaller draws of the reference (as many per speaker and emotion as the old
default held out) is what the reference's size alone does.
"""

import json
import random
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

REFERENCE_SET = {"utterance": "heldout", "speaker": "valid"}


def reference_accuracy(decode_dir: Path, text: Path, classes):
    from espnet2_unlearn.metrics.predictions import load_predictions

    pred = load_predictions(decode_dir, text, classes)
    return pred, 100 * float(np.mean(np.array(pred["refs"]) == np.array(pred["hyps"])))


def draws(pred, utt2spk, per_spk_label: int, num: int = 1000, seed: int = 0):
    """Accuracy over `num` draws of `per_spk_label` utterances per speaker and
    label from the reference set: how far a reference of that size wanders."""
    rng = random.Random(seed)
    cells = defaultdict(list)
    for u, r, h in zip(pred["utts"], pred["refs"], pred["hyps"]):
        cells[(utt2spk[u], r)].append(r == h)
    accs = []
    for _ in range(num):
        picked = [x for c in sorted(cells) for x in rng.sample(cells[c], min(per_spk_label, len(cells[c])))]
        accs.append(100 * float(np.mean(picked)))
    return accs


def target_section(runs, feats="dump/fbank", ser_exp="exp/ser_train_ser", old_per_spk_label=2):
    """runs: (name, metrics.json content, forget_report.json content, gold dir).
    Markdown lines."""
    from espnet2_unlearn.data.kaldi_dir import read_table
    from espnet2_unlearn.metrics.predictions import read_token_list

    classes = read_token_list("data/token_list")
    stats = json.loads((Path(ser_exp) / "reference_stats.json").read_text())["sets"]
    lines = ["## The forget target", "",
             "Per forget set: the `auto` target stage 5 stopped at (the source model's accuracy on the reference "
             "set: `heldout` for utterance requests, `valid` for speaker requests; its 95 % bootstrap interval "
             "over those utterances), gold's accuracy on the forget set, and gold's accuracy on the same "
             "reference set. Points.", "",
             "| forget set | target | target's interval | gold forget acc | gold reference acc | "
             "gold forget - target | gold forget - gold reference |", "|---|---|---|---|---|---|---|"]
    gaps, inner = defaultdict(list), defaultdict(list)
    for name, metrics, report, gold_dir in runs:
        if "gold" not in metrics["models"]:
            continue
        ref = REFERENCE_SET[metrics["forget_request"]]
        target = 100 * report["target"]["value"]
        iv = stats[ref].get("accuracy_interval")
        gold_forget = 100 * metrics["models"]["gold"]["forget"]["accuracy"]
        dec = Path(gold_dir) / "decode_train.loss.ave" / ref
        if not dec.is_dir():  # stage 6 decodes heldout, not valid: decoded here (512 utterances)
            subprocess.run([sys.executable, "-m", "espnet2_unlearn.bin.decode_sets", "--model_dir", str(gold_dir),
                            "--model_file", "train.loss.ave.pth", "--output_dir", str(dec.parent),
                            f"{ref}={Path(feats) / ref}"], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        gold_ref = reference_accuracy(dec, Path(feats) / ref / "text", classes)[1]
        gaps[ref].append(gold_forget - target)
        inner[ref].append(gold_forget - gold_ref)
        lines.append(f"| {name} | {target:.1f} | " + (f"[{iv['low']:.1f}, {iv['high']:.1f}]" if iv else "-")
                     + f" | {gold_forget:.1f} | {gold_ref:.1f} | {gold_forget - target:+.1f} | "
                     f"{gold_forget - gold_ref:+.1f} |")
    for ref, g in gaps.items():
        lines += ["", f"Reference `{ref}`, {len(g)} forget sets: gold forget accuracy minus the target "
                  f"{np.mean(g):+.1f} points on average (per set from {min(g):+.1f} to {max(g):+.1f}); gold's forget "
                  f"minus its own reference accuracy {np.mean(inner[ref]):+.1f}; gold's reference accuracy minus "
                  f"the target {np.mean(g) - np.mean(inner[ref]):+.1f}."]
    src = Path(ser_exp) / "decode_train.loss.ave" / "heldout"
    if src.is_dir():
        pred, acc = reference_accuracy(src, Path(feats) / "heldout" / "text", classes)
        u2s = read_table(Path(feats) / "heldout" / "utt2spk")
        cells = {(u2s[u], r) for u, r in zip(pred["utts"], pred["refs"])}
        accs = draws(pred, u2s, old_per_spk_label)
        lo, hi = np.percentile(accs, [2.5, 97.5])
        lines += ["", f"The source model on all {len(pred['utts'])} heldout utterances: {acc:.1f}. On 1000 draws of "
                  f"{old_per_spk_label} per speaker and emotion from them ({old_per_spk_label * len(cells)} "
                  f"utterances, the old default reference's size): mean {np.mean(accs):.1f}, 95 % of the draws "
                  f"in [{lo:.1f}, {hi:.1f}]."]
    return lines + [""]
