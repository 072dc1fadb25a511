"""Two or more settings of stage 5 on the same forget sets, one row per set:
steps, whether the stop was reached, compute seconds, retain accuracy, test
UAR minus the original's (paired 95 % bootstrap interval) and the forget loss
AUC, for each setting.  Reads the runs bench/compare.py made (their
forget_report.json and stage 6's eval/metrics.json); runs nothing.

    python bench/side_by_side.py --names default pending [--prefix exp/unlearn_forget_] [--suffix ""] [--plot x.png]

--plot also draws, per set, each setting's steps and its test-UAR difference
from the original with the interval.

A run is exp/unlearn_forget_<set><suffix>_<name>; a set missing for a
setting shows as "-".
"""

import argparse
import json
from pathlib import Path

SETS = ("n10_s0", "n10_s1", "n50_s0", "n50_s1", "n50_s2", "n50_s3", "n50_s4", "n100_s0", "n100_s1", "spk01", "spk02")


def row(run: Path):
    """The figures of one run, or None when it is not there (or not scored)."""
    report, metrics = run / "forget_report.json", run / "eval/metrics.json"
    if not (report.is_file() and metrics.is_file()):
        return None
    r, m = json.loads(report.read_text()), json.loads(metrics.read_text())["models"]["unlearned"]
    d = m["vs"]["original"]["test_uar"]
    return {"steps_n": r["steps"], "uar": (d["value"], d["low"], d["high"]), "steps": str(r["steps"]), "reached": "yes" if r["target"]["reached"] else "**no**",
            "compute s": f"{r['compute_time_s']:.0f}", "retain acc": f"{100 * m['retain']['accuracy']:.1f}",
            "test UAR vs original": f"{d['value']:+.1f} [{d['low']:+.1f}, {d['high']:+.1f}]",
            "loss AUC": f"{m['mia']['loss_auc_forget_vs_nonmember']:.3f}"}


def plot(path: Path, names, sets, runs) -> None:
    """Steps (left) and test UAR minus the original's with its interval (right), per set and setting."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 0.45 * len(sets) + 1.5), sharey=True)
    height = 0.8 / len(names)
    for k, name in enumerate(names):
        ys = [i + (k - (len(names) - 1) / 2) * height for i in range(len(sets))]
        got = [(y, runs[s][k]) for y, s in zip(ys, sets) if runs[s][k] is not None]
        left.barh([y for y, _ in got], [r["steps_n"] for _, r in got], height=height, label=name)
        right.errorbar([r["uar"][0] for _, r in got], [y for y, _ in got], fmt="o", label=name,
                       xerr=[[r["uar"][0] - r["uar"][1] for _, r in got], [r["uar"][2] - r["uar"][0] for _, r in got]])
    right.axvline(0, color="grey", lw=0.8)
    left.set_yticks(range(len(sets)), sets)
    left.invert_yaxis()
    left.set_xlabel("steps (200: stopped short of the target)")
    right.set_xlabel("test UAR minus the original's (points, 95 % interval)")
    left.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--names", nargs="+", required=True, help="run-name suffixes of the settings")
    p.add_argument("--sets", nargs="+", default=list(SETS))
    p.add_argument("--prefix", default="exp/unlearn_forget_")
    p.add_argument("--suffix", default="", help="between the set and the name (e.g. _e6 for --name e6_x runs)")
    p.add_argument("--plot", type=Path, help="also draw the steps and the test-UAR differences here (PNG)")
    args = p.parse_args(argv)
    columns = ["steps", "reached", "compute s", "retain acc", "test UAR vs original", "loss AUC"]
    print("| set | " + " | ".join(f"{c} ({' / '.join(args.names)})" for c in columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    runs = {}
    for s in args.sets:
        rows = [row(Path(f"{args.prefix}{s}{args.suffix}_{n}")) for n in args.names]
        if all(x is None for x in rows):
            continue
        runs[s] = rows
        cells = [" / ".join("-" if x is None else x[c] for x in rows) for c in columns]
        print(f"| {s} | " + " | ".join(cells) + " |")
    if args.plot:
        plot(args.plot, args.names, list(runs), runs)


if __name__ == "__main__":
    main()
