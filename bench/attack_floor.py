"""How steady the per-utterance attack's noise floor is, and how well the
attack separates models that trained on the forget set from models that did
not, over training seeds (run from the recipe directory, after stage 7 with
--reference_seeds):

    python bench/attack_floor.py --output bench/ATTACK_FLOOR.md \\
        rand50_seed0/e6:exp/ser_e6:exp/gold_ser_e6_b7334976eb30:data/forget_rand50_seed0

Each argument is NAME:SOURCE_DIR:GOLD_DIR:FORGET_LIST; the reference models
are SOURCE_DIR_seed<N> ("in") and GOLD_DIR_seed<N> ("out") for --seeds.
Per set: each retrained seed (gold and the out models) attacked with fits on
the other retrained seeds (the floor of metrics/lira.py), and each "in" seed
attacked with fits on the other "in" seeds; their means, spreads and the
separation (difference of means over the pooled spread).  Two attackers: the
plain one of metrics/lira.py, and one that first removes each model's
per-class offset, measured on the retain utterances (members of every
model), from its confidences ("class-calibrated"): does removing whole-class
shifts between seeds make members easier to tell?
"""

import argparse
import shlex
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from espnet2_unlearn.bin.evaluate import forget_confidences  # noqa: E402
from espnet2_unlearn.data.forget_list import read_forget_ids  # noqa: E402
from espnet2_unlearn.metrics import lira  # noqa: E402
from espnet2_unlearn.metrics.predictions import read_token_list  # noqa: E402

DECODE = "decode_train.loss.ave"


def class_offsets(phi_pop, ref_pop, pop_classes, classes):
    """Per model, the median over retain utterances of each class of its
    confidence minus the references' mean, spread to the forget utterances' classes."""
    out = np.zeros((len(phi_pop), len(classes)))
    for c in set(classes):
        out[:, classes == c] = np.median((phi_pop - ref_pop)[:, pop_classes == c], axis=1)[:, None]
    return out


def leave_one_out(targets, fit_in, fit_out, side):
    """AUC of each target model with the fits of its own side left without it."""
    aucs = []
    for j in range(len(targets)):
        rest_in = np.delete(fit_in, j, axis=0) if side == "in" else fit_in
        rest_out = np.delete(fit_out, j, axis=0) if side == "out" else fit_out
        aucs.append(lira.attack({"m": targets[j]}, rest_in, rest_out)["models"]["m"]["auc"])
    return np.array(aucs)


def measure(source, gold, forget_list, seeds, feats, classes):
    ids = sorted(set(read_forget_ids(forget_list)))
    texts = dict(line.split(maxsplit=1) for line in open(feats / "train/text", encoding="utf-8"))
    pop = sorted(set(texts) - set(ids))
    ins = [f"{source}_seed{k}/{DECODE}" for k in seeds]
    outs = [f"{gold}/{DECODE}"] + [f"{gold}_seed{k}/{DECODE}" for k in seeds]
    phi_in, phi_out = (forget_confidences(d, feats, ids, classes) for d in (ins, outs))
    pop_in, pop_out = (forget_confidences(d, feats, pop, classes) for d in (ins, outs))
    ref_pop = np.concatenate([pop_in, pop_out]).mean(axis=0)
    fc = np.array([texts[u].strip() for u in ids])
    pc = np.array([texts[u].strip() for u in pop])
    rows = {}
    for name, (a_in, a_out) in {
        "plain": (phi_in, phi_out),
        "class-calibrated": (phi_in - class_offsets(pop_in, ref_pop, pc, fc),
                             phi_out - class_offsets(pop_out, ref_pop, pc, fc)),
    }.items():
        floor = leave_one_out(a_out, a_in, a_out, "out")
        members = leave_one_out(a_in, a_in, a_out[1:], "in")
        pooled = np.sqrt((np.var(floor, ddof=1) + np.var(members, ddof=1)) / 2)
        rows[name] = {"floor": floor, "members": members, "separation": (members.mean() - floor.mean()) / pooled}
    return len(ids), rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sets", nargs="+", help="NAME:SOURCE_DIR:GOLD_DIR:FORGET_LIST")
    p.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3, 4])
    p.add_argument("--feats_dir", type=Path, default=Path("dump/fbank"))
    p.add_argument("--token_list", default="data/token_list")
    p.add_argument("--output", type=Path)
    args = p.parse_args(argv)
    classes = read_token_list(args.token_list)
    lines = ["# The attack's noise floor over seeds", "",
             f"Made by `python bench/attack_floor.py {shlex.join(sys.argv[1:] if argv is None else argv)}` in the "
             "recipe directory. Floor: each retrained seed (gold and the out models) attacked with fits on the other "
             "retrained seeds; members: each 'in' seed attacked with fits on the other 'in' seeds. Mean ± sd over "
             "seeds (AUCs of one seed listed in order: gold first, then --seeds); separation: difference of the "
             "means over the pooled sd.", "",
             "| set | utts | attacker | floor AUCs | floor mean ± sd | member AUCs | member mean ± sd | separation |",
             "|---|---|---|---|---|---|---|---|"]
    for spec in args.sets:
        name, source, gold, forget_list = spec.split(":")
        n, rows = measure(source, gold, forget_list, args.seeds, args.feats_dir, classes)
        for attacker, r in rows.items():
            f, m = r["floor"], r["members"]
            lines.append(f"| {name} | {n} | {attacker} | {', '.join(f'{a:.3f}' for a in f)} | "
                         f"{f.mean():.3f} ± {f.std(ddof=1):.3f} | {', '.join(f'{a:.3f}' for a in m)} | "
                         f"{m.mean():.3f} ± {m.std(ddof=1):.3f} | {r['separation']:.2f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.output:
        tmp = args.output.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(args.output)


if __name__ == "__main__":
    main()
