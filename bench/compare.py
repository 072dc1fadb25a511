"""The comparison of ARCHITECTURE §4-5 over forget-set sizes and seeds, on a
trained recipe (run from its directory after stage 4, e.g. the top level
after `./run.sh --stop_stage 4`):

    python bench/compare.py --sizes 10 50 100 --seeds 0 1 2

For each size N and seed s, N random training utterances (make_forget, seed
s) are forgotten by `./run.sh --stage 5 --stop_stage 7`: the unlearning of
stage 5, the gold model retrained without them and the baselines of stage 7,
all evaluated by stage 6's code.  Runs already done are reused (their
directories are kept), so an interrupted bench resumes.  Prints, per size,
one table of method x metric (mean ± std over seeds), then the bars of §5
for the unlearned model.

    --stop_stage 6        unlearning and evaluation only (no gold, no baselines)
    --unlearn_args "..."  with --name, a hyper-parameter setting to sweep; the
                          gold models of the same forget sets are shared
"""

import argparse
import json
import math
import subprocess
import sys
from pathlib import Path

COLUMNS = (  # (header, function of a model's metrics)
    ("forget acc", lambda m: 100 * m["forget"]["accuracy"]),
    ("retain acc", lambda m: 100 * m["retain"]["accuracy"]),
    ("test UAR", lambda m: 100 * m["test"]["uar"]),
    ("MIA eff.", lambda m: 100 * m["mia"]["efficacy"]),
    ("loss AUC", lambda m: m["mia"]["loss_auc_forget_vs_nonmember"]),
    ("gap to gold", lambda m: m["gap_to_gold"]["mean"] if "gap_to_gold" in m else None),
    ("seconds", lambda m: m.get("wall_time_s")),
    ("speed-up", lambda m: m.get("speedup_over_gold")),
    ("peak RSS MiB", lambda m: m.get("peak_rss_mib")),
)


def mean_std(values):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    digits = 3 if abs(mean) < 1.5 else 1
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def run_one(size, seed, args):
    forget = Path(args.forget_dir) / f"forget_n{size}_s{seed}"
    if not forget.exists():
        subprocess.run([sys.executable, "-m", "espnet2_unlearn.bin.make_forget", "--num_utts", str(size),
                        "--seed", str(seed), "data/train", str(forget)], check=True)
    tag = f"{forget.name}{'_' + args.name if args.name else ''}"
    metrics = Path(f"exp/unlearn_{tag}/eval/metrics.json")
    if not (metrics.exists() and (args.stop_stage < 7 or "gold" in json.loads(metrics.read_text())["models"])):
        cmd = ["./run.sh", "--stage", "5" if not Path(f"exp/unlearn_{tag}").exists() else "6",
               "--stop_stage", str(args.stop_stage), "--forget_list", str(forget), "--unlearn_tag", tag,
               "--baselines", args.baselines, "--unlearn_args", args.unlearn_args, *args.run_args]
        print(f"bench: {' '.join(cmd)}", file=sys.stderr, flush=True)
        with open(Path(args.forget_dir) / f"{tag}.log", "w") as log:
            if subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode != 0:
                sys.exit(f"bench: {' '.join(cmd)} failed: see {log.name}")
    return json.loads(metrics.read_text())


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 100])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--stop_stage", type=int, choices=[6, 7], default=7)
    p.add_argument("--baselines", default="relabel ascent l2ul relabel_adv finetune")
    p.add_argument("--unlearn_args", default="")
    p.add_argument("--name", default="", help="suffix of the run names, for a hyper-parameter setting")
    p.add_argument("--forget_dir", default="data/bench", help="where forget lists and run logs go")
    p.add_argument("--output", type=Path, help="also write the tables to this Markdown file")
    p.add_argument("run_args", nargs="*", help="more run.sh options, after --")
    args = p.parse_args()
    if args.unlearn_args and not args.name:
        p.error("--unlearn_args needs --name, so that its runs do not mix with the default's")
    Path(args.forget_dir).mkdir(parents=True, exist_ok=True)

    lines, results = [], {}
    for size in args.sizes:
        runs = [run_one(size, seed, args) for seed in args.seeds]
        results[size] = runs
        methods = list(runs[0]["models"])
        block = [f"## {size} utterances forgotten, seeds {' '.join(map(str, args.seeds))}"
                  f"{' (' + args.unlearn_args + ')' if args.unlearn_args else ''}", "",
                  "| method | " + " | ".join(h for h, _ in COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
        for name in methods:
            cells = [mean_std([f(r["models"][name]) for r in runs if name in r["models"]]) for _, f in COLUMNS]
            block.append(f"| {name} | " + " | ".join(cells) + " |")
        bars = [r["bars"] for r in runs if "bars" in r]
        if bars:
            block += ["", "| bar (unlearned) | measured | required | met in |", "|---|---|---|---|"]
            for bar in (k for k in bars[0] if k != "model"):
                vals = [b[bar] for b in bars if bar in b]
                op = ">=" if bar == "speed" else "<="
                block.append(f"| {bar}: {vals[0]['what']} | {mean_std([v['value'] for v in vals])} "
                             f"| {op} {vals[0]['bar']:g} | {sum(v['met'] for v in vals)}/{len(vals)} runs |")
        block.append("")
        print("\n".join(block), flush=True)
        lines += block
    if args.output:
        plot = args.output.with_suffix(".png")
        plot_results(results, plot)
        args.output.write_text("\n".join(lines) + f"\n![per method and size]({plot.name})\n")


def plot_results(results, path: Path) -> None:
    """Mean gap to gold and test UAR per method, one bar per forget-set size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = list(next(iter(results.values()))[0]["models"])
    panels = [("mean gap to gold (points)", COLUMNS[5][1]), ("test UAR (%)", COLUMNS[2][1])]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    width = 0.8 / len(results)
    for ax, (title, f) in zip(axes, panels):
        for i, (size, runs) in enumerate(results.items()):
            means = []
            for m in methods:
                vals = [f(r["models"][m]) for r in runs if m in r["models"]]
                vals = [v for v in vals if v is not None]
                means.append(sum(vals) / len(vals) if vals else 0.0)
            ax.bar([j + i * width for j in range(len(methods))], means, width, label=f"{size} forgotten")
        ax.set_xticks([j + width * (len(results) - 1) / 2 for j in range(len(methods))], methods, rotation=30)
        ax.set_title(title)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
