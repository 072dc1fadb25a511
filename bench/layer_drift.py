"""Where an unlearning run moved the model: per Linear/Conv1d layer, how far
its outputs on the remaining data (train minus the forget set) moved from
the original model's, relative to their size, ||Y' - Y|| / ||Y||, and the
same on the forget set; each layer fed its own model's inputs, so the change
accumulates with depth as the model's does.  Run in the recipe directory:

    python bench/layer_drift.py --forget_list data/bench/forget_n50_s1 \\
        exp/unlearn_forget_n50_s1 exp/baseline_relabel_forget_n50_s1

Prints one Markdown table, a column per model.
"""

import argparse
import sys
import tempfile
from pathlib import Path

import torch
import yaml


def outputs(model, speech):
    """Per layer, the outputs over the utterances (one at a time), flattened."""
    from espnet2_unlearn.model_calls import logits_of, pad
    from espnet2_unlearn.unlearn.layer_statistics import layers

    mods = layers(model)
    got = {n: [] for n in mods}
    handles = [m.register_forward_hook(lambda mod, i, o, n=n: got[n].append(o.detach().flatten()))
               for n, m in mods.items()]
    model.eval()
    with torch.no_grad():
        for x in speech:
            logits_of(model, *pad([x]))
    for h in handles:
        h.remove()
    return {n: torch.cat(v) for n, v in got.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--forget_list", required=True)
    p.add_argument("--ser_exp", type=Path, default=Path("exp/ser_train_ser"))
    p.add_argument("--model_file", default="train.loss.ave.pth")
    p.add_argument("--train_dir", default="dump/fbank/train")
    p.add_argument("--max_utts", type=int, default=200, help="remaining utterances used (seeded draw)")
    p.add_argument("models", nargs="+", type=Path, help="unlearned model dirs (unlearned.pth)")
    args = p.parse_args()
    from espnet2.tasks.cls import CLSTask
    from espnet2_unlearn.unlearn.forget_set import load_forget_set, read_forget_ids

    torch.set_num_threads(1)
    forget_ids = set(read_forget_ids(args.forget_list))
    train_ids = [line.split()[0] for line in open(f"{args.train_dir}/text", encoding="utf-8")]
    g = torch.Generator().manual_seed(0)
    remaining = [u for u in train_ids if u not in forget_ids]
    remaining = sorted(remaining[i] for i in torch.randperm(len(remaining), generator=g)[: args.max_utts].tolist())
    model_args = argparse.Namespace(**yaml.safe_load((args.ser_exp / "config.yaml").read_text()))
    data = {}
    for name, ids in (("remaining", remaining), ("forget", sorted(forget_ids))):
        with tempfile.TemporaryDirectory() as d:
            key = Path(d) / "ids"
            key.write_text("".join(u + "\n" for u in ids))
            data[name] = load_forget_set(ids, [(f"{args.train_dir}/feats.scp", "speech", "kaldi_ark"),
                                               (f"{args.train_dir}/text", "label", "text")], model_args, key)
    original, _ = CLSTask.build_model_from_file(str(args.ser_exp / "config.yaml"),
                                                str(args.ser_exp / args.model_file), "cpu")
    ref = {k: outputs(original, v.speech) for k, v in data.items()}
    cols = {}
    for m in args.models:
        model, _ = CLSTask.build_model_from_file(str(m / "config.yaml"), str(m / "unlearned.pth"), "cpu")
        cols[m.name] = {k: outputs(model, v.speech) for k, v in data.items()}
    names = list(ref["remaining"])
    print(f"Relative change of each layer's outputs, ||Y' - Y|| / ||Y||, on {len(remaining)} remaining and "
          f"{len(forget_ids)} forget utterances of {args.forget_list}: remaining / forget.\n")
    print("| layer | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for n in names:
        cells = []
        for c in cols.values():
            r = [float((c[k][n] - ref[k][n]).norm() / ref[k][n].norm().clamp_min(1e-12)) for k in ("remaining", "forget")]
            cells.append(f"{r[0]:.4f} / {r[1]:.4f}")
        print(f"| {n} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
