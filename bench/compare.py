"""The comparison of docs/design.md ("Evaluation", "Bars") over forget sets,
on a trained recipe (run from its directory after stage 4, e.g. the top
level after `./run.sh --stop_stage 4`):

    python bench/compare.py --jobs 2 --output bench/RESULTS.md

By default 2 random forget sets of 10 utterances, 5 of 50, 2 of 100
(make_forget, seeds 0, 1, ...) and all training utterances of spk01 and of
spk02, each forgotten by `./run.sh --stage 5 --stop_stage 7`: the unlearning
of stage 5, the gold model retrained without them and the baselines of stage
7, all evaluated by stage 6's code.  Runs already done are reused (their
directories are kept; gold models by the forget list's content key), so an
interrupted bench resumes; runs scored by an older stage 6 are scored again.
Prints, per request kind, one table of method x metric (mean and 95 %
t-interval across forget sets), the paired interval of original vs
unlearned test UAR and how many forget sets each method meets per bar; then
the forgetting bar pooled over the bench, the `auto` forget target against
gold (bench/target.py), the bench's wall time, and how the model selection
behaves (best epoch vs average of the 5 best, for the original and every
gold model).

    --stop_stage 6        unlearning and evaluation only (no gold, no baselines)
    --unlearn_args "..."  with --name, a hyper-parameter setting to sweep; the
                          gold models of the same forget sets are shared
"""

import argparse
import json
import math
import re
import shlex
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
    # The per-utterance attack, where the runs have reference models (run.sh --reference_seeds)
    ("attack AUC", lambda m: m.get("lira", {}).get("auc")),
    ("attack TPR@5% FPR", lambda m: 100 * m["lira"]["tpr_at_5pct_fpr"] if "lira" in m else None),
    ("attack AUC − floor", lambda m: m.get("lira", {}).get("auc_vs_floor", {}).get("value")),
    ("compute s", lambda m: m.get("compute_time_s")),
    ("process s", lambda m: m.get("process_time_s")),
    ("speed-up compute", lambda m: m.get("speedup_over_gold", {}).get("compute")),
    ("speed-up process", lambda m: m.get("speedup_over_gold", {}).get("process")),
    ("peak RSS MiB", lambda m: m.get("peak_rss_mib")),
)
BARS = ("utility floor", "utility", "forgetting", "attack", "start-up", "memory")  # per forget set, in table order
# Two-sided 95 % Student t quantiles by degrees of freedom.
T975 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26, 10: 2.23}


def mean_interval(values):
    """(mean, half-width of the 95 % t-interval of the mean) of the values
    that are there; half-width None for a single value."""
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, None
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    return mean, T975.get(len(values) - 1, 1.96) * sd / math.sqrt(len(values))


def cell(values):
    mean, half = mean_interval(values)
    if mean is None:
        return "-"
    digits = 3 if abs(mean) < 1.5 else 1
    return f"{mean:.{digits}f}" + ("" if half is None else f" ± {half:.{digits}f}")


SPEED_NOTE = ("Speed is judged at a real corpus's size (at least 5 000 training utterances, measured there: "
              "`bench/scaling.py`), not on the built-in corpus; the speed-up columns above are reported, not judged.")


def size_and_seeds(spec: str):
    """'50:0,1,2' -> (50, [0, 1, 2])."""
    n, _, seeds = spec.partition(":")
    try:
        return int(n), [int(x) for x in seeds.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N:SEED,SEED,..., got '{spec}'") from None


def gold_dir(forget: Path, ser_exp: str = "exp/ser_train_ser") -> Path:
    from espnet2_unlearn.data.forget_list import content_key, read_forget_ids

    return Path(f"exp/gold_{Path(ser_exp).name}_{content_key(read_forget_ids(forget))}")


def forget_list(kind, value, seed, args):
    name = f"forget_n{value}_s{seed}" if kind == "random" else f"forget_{value}"
    forget = Path(args.forget_dir) / name
    if not forget.exists():
        opts = ["--num_utts", str(value), "--seed", str(seed)] if kind == "random" else ["--speakers", value]
        subprocess.run([sys.executable, "-m", "espnet2_unlearn.bin.make_forget", *opts, "data/train", str(forget)],
                       check=True)
    return forget


def metrics_file(forget, args) -> Path:
    return Path(f"exp/unlearn_{forget.name}{'_' + args.name if args.name else ''}/eval/metrics.json")


def done(forget, args) -> bool:
    metrics = metrics_file(forget, args)
    if not metrics.exists():
        return False
    models = json.loads(metrics.read_text())["models"]
    # Runs scored before the per-utterance forget outcomes were kept are evaluated again (stage 6 only).
    return (args.stop_stage < 7 or "gold" in models) and all("forget_outcomes" in m for m in models.values())


def run_one(forget, args):
    tag = f"{forget.name}{'_' + args.name if args.name else ''}"
    metrics = metrics_file(forget, args)
    if not done(forget, args):
        first = "5" if not Path(f"exp/unlearn_{tag}").exists() else "6"
        cmd = ["./run.sh", "--stage", first, "--stop_stage", str(args.stop_stage), "--forget_list", str(forget),
               "--unlearn_tag", tag, "--baselines", args.baselines, "--unlearn_args", args.unlearn_args,
               *args.run_args]
        print(f"bench: {' '.join(cmd)}", file=sys.stderr, flush=True)
        with open(Path(args.forget_dir) / f"{tag}.log", "a") as log:
            if subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode != 0:
                sys.exit(f"bench: {' '.join(cmd)} failed: see {log.name}")
    return json.loads(metrics.read_text())


def wall_seconds(forget_lists, args) -> float:
    """The runs' wall time as ser.sh reported it ("Finished stages ... in N s"
    of every invocation, appended to the run's log)."""
    total = 0.0
    for forget in forget_lists:
        log = Path(args.forget_dir) / f"{forget.name}{'_' + args.name if args.name else ''}.log"
        if log.exists():
            total += sum(float(x) for x in re.findall(r"Finished stages \d+-\d+ in (\d+) s", log.read_text()))
    return total


def method_table(title, runs):
    methods = list(runs[0]["models"])
    block = [f"## {title}", "", "| method | " + " | ".join(h for h, _ in COLUMNS) + " |",
             "|---" * (len(COLUMNS) + 1) + "|"]
    for name in methods:
        cells = [cell([f(r["models"][name]) for r in runs if name in r["models"]]) for _, f in COLUMNS]
        block.append(f"| {name} | " + " | ".join(cells) + " |")
    d = [r["models"]["unlearned"]["vs"]["original"]["test_uar"] for r in runs]
    halves = [(x["high"] - x["low"]) / 2 for x in d if x["low"] is not None]
    block += ["", "Paired 95 % interval of unlearned minus original test UAR, per run: "
              + "; ".join(f"{x['value']:+.1f} [{x['low']:+.1f}, {x['high']:+.1f}]" for x in d if x["low"] is not None)
              + (f" (mean half-width {sum(halves) / len(halves):.2f} points)" if halves else "")]
    return block + [""] + bar_table(runs)


def bar_table(runs):
    """How many forget sets each method meets, misses or leaves unresolved
    per bar (metrics/comparison.py: bars), from every run's paired intervals."""
    from espnet2_unlearn.metrics.comparison import bars

    methods = [m for m in runs[0]["models"] if m not in ("original", "gold")]
    counts = {m: {} for m in methods}
    for r in runs:
        gold = r["models"].get("gold")
        for m in methods:
            if m not in r["models"]:
                continue
            for bar, v in bars(r["models"][m], gold).items():
                if v["value"] is None or bar.startswith("speed"):
                    continue  # judged over the bench (pooled) or at a real corpus's size (speed)
                counts[m].setdefault(bar, []).append(v["status"])
    names = [b for b in BARS if any(b in c for c in counts.values())]
    lines = ["Bars per method, forget sets met / not met / not resolved (speed: see the note below the tables):", "",
             "| method | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for m in methods:
        cells = ["/".join(str(counts[m][b].count(s)) for s in ("met", "not met", "not resolved"))
                 if b in counts[m] else "-" for b in names]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return lines + [""]


def pooled_table(all_runs):
    """The forgetting bar over the whole bench, per method (comparison.pooled_forgetting)."""
    from espnet2_unlearn.metrics.bootstrap import format_interval
    from espnet2_unlearn.metrics.comparison import MIN_POOLED_SETS, pooled_forgetting

    methods = [m for m in all_runs[0]["models"] if m != "gold"]
    lines = ["## Forgetting over the bench", "",
             f"Forget accuracy and MIA efficacy minus gold's, over every utterance of the {len(all_runs)} forget "
             "sets above (each set weighted by its size), with a 95 % interval from resampling utterances within "
             "every set; the bar: both intervals inside ±5 points.", "",
             "| method | forget acc − gold | MIA efficacy − gold | status |", "|---|---|---|---|"]
    for m in methods:
        pairs = [(r["models"][m]["forget_outcomes"], r["models"]["gold"]["forget_outcomes"]) for r in all_runs
                 if m in r["models"] and "gold" in r["models"]]
        if len(pairs) < MIN_POOLED_SETS:
            lines.append(f"| {m} | fewer than {MIN_POOLED_SETS} forget sets: not judged | - | - |")
            continue
        p = pooled_forgetting(pairs)
        lines.append(f"| {m} | {format_interval(p['value']['forget_acc'])} | "
                     f"{format_interval(p['value']['mia_efficacy'])} | {p['status']} |")
    return lines + [""]


def selection_table(forget_lists, ser_exp="exp/ser_train_ser", files=("valid.acc.best.pth", "train.loss.ave.pth"),
                    jobs=2):
    """How the model selection behaves: retain accuracy and test UAR of the
    original and of every gold model, for the epoch of best validation
    accuracy (the selection before) and the average of the 5 epochs of lowest
    training loss (the default now), decoded here where stage 6 has not
    (jobs at a time), scored by stage 6's own code.  A stable selection gives
    gold models close to each other, with a retain accuracy close to the
    original's."""
    from concurrent.futures import ThreadPoolExecutor

    from espnet2_unlearn.bin.evaluate import evaluate_model
    from espnet2_unlearn.data.forget_list import read_forget_ids
    from espnet2_unlearn.metrics.predictions import read_token_list

    classes = read_token_list("data/token_list")
    feats = Path("dump/fbank")
    sets = ("train", "test", "heldout")
    ids = {forget: read_forget_ids(forget) for forget in forget_lists}
    golds = {forget: str(gold_dir(forget, ser_exp)) for forget in ids}
    todo = {(d, f) for f in files for d in [ser_exp, *golds.values()]
            if not all((Path(d) / f"decode_{f[:-4]}" / s / "prediction/score").exists() for s in sets)}

    def decode(job):
        d, f = job
        subprocess.run([sys.executable, "-m", "espnet2_unlearn.bin.decode_sets", "--model_dir", d, "--model_file", f,
                        "--output_dir", str(Path(d) / f"decode_{f[:-4]}"), *(f"{s}={feats / s}" for s in sets)],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(decode, sorted(todo)))
    rows = {f: {"original retain": [], "gold retain": [], "original test": [], "gold test": []} for f in files}
    for forget in forget_lists:
        for f in files:
            for who, d in (("original", ser_exp), ("gold", golds[forget])):
                m, _, _ = evaluate_model(Path(d) / f"decode_{f[:-4]}", feats, ids[forget], classes, "utterance", 0)
                rows[f][f"{who} retain"].append(100 * m["retain"]["accuracy"])
                rows[f][f"{who} test"].append(100 * m["test"]["uar"])
    lines = ["## Model selection", "",
             "valid.acc.best: the epoch of best validation accuracy (the selection before); train.loss.ave: the "
             "average of the 5 epochs of lowest training loss, i.e. the last five (the default). Both files come "
             f"from the same trainings: the original and the {len(forget_lists)} gold models above. Mean ± 95 % "
             "t-interval over the forget sets; gold's test UAR also as its range and standard deviation.", "",
             "| model file | original retain acc | gold retain acc | original test UAR | gold test UAR | "
             "gold test UAR range | gold test UAR std |", "|---|---|---|---|---|---|---|"]
    for f, r in rows.items():
        g = r["gold test"]
        mean = sum(g) / len(g)
        std = math.sqrt(sum((v - mean) ** 2 for v in g) / (len(g) - 1)) if len(g) > 1 else 0.0
        lines.append(f"| {f} | {cell(r['original retain'])} | {cell(r['gold retain'])} | {cell(r['original test'])} "
                     f"| {cell(g)} | {min(g):.1f}-{max(g):.1f} | {std:.1f} |")
    return lines + [""]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", nargs="*", type=size_and_seeds,
                   default=[(10, [0, 1]), (50, [0, 1, 2, 3, 4]), (100, [0, 1])],
                   help="N:SEEDS, random forget sets of N utterances made with each seed")
    p.add_argument("--speakers", nargs="*", default=["spk01", "spk02"], help="one-speaker requests, one run each")
    p.add_argument("--jobs", type=int, default=1,
                   help="forget sets run at a time (each then on one thread: OMP_NUM_THREADS=1)")
    p.add_argument("--stop_stage", type=int, choices=[6, 7], default=7)
    p.add_argument("--baselines", default="all", help="ser.sh --baselines: all, or some of its baseline_list")
    p.add_argument("--unlearn_args", default="")
    p.add_argument("--name", default="", help="suffix of the run names, for a hyper-parameter setting")
    p.add_argument("--forget_dir", default="data/bench", help="where forget lists and run logs go")
    p.add_argument("--output", type=Path, help="also write the tables to this Markdown file")
    p.add_argument("--existing_only", action="store_true",
                   help="report the runs that are done (with a gold model), run nothing")
    p.add_argument("--skip_selection", action="store_true",
                   help="no model-selection table (for a bench split over parallel processes)")
    p.add_argument("run_args", nargs="*", help="more run.sh options, after --")
    args = p.parse_args()
    if args.unlearn_args and not args.name:
        p.error("--unlearn_args needs --name, so that its runs do not mix with the default's")
    Path(args.forget_dir).mkdir(parents=True, exist_ok=True)

    lines, results, forget_lists = [], {}, []
    groups = [("random", n, seeds) for n, seeds in args.sets] + [("speaker", s, [0]) for s in args.speakers]
    plan = []
    for kind, value, seeds in groups:
        lists = [forget_list(kind, value, seed, args) for seed in seeds]
        if args.existing_only:
            lists = [f for f in lists if done(f, args)]
        plan.append((kind, value, lists))
    if args.jobs > 1:
        import os
        from concurrent.futures import ThreadPoolExecutor

        os.environ["OMP_NUM_THREADS"] = "1"
        with ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(lambda f: run_one(f, args), [f for _, _, lists in plan for f in lists]))
    all_runs = []
    for kind, value, lists in plan:
        if not lists:
            continue
        seeds = [f.name.rsplit("_s", 1)[1] for f in lists] if kind == "random" else []
        title = (f"{value} utterances forgotten, seeds {' '.join(seeds)}" if kind == "random"
                 else f"speaker {value} forgotten (all training utterances)")
        forget_lists += lists
        runs = [run_one(forget, args) for forget in lists]
        all_runs += [(f, r) for f, r in zip(lists, runs)]
        results[f"N={value}" if kind == "random" else f"speaker {value}"] = runs
        block = method_table(title + (f" ({args.unlearn_args})" if args.unlearn_args else ""), runs)
        print("\n".join(block), flush=True)
        lines += block
    if all_runs and args.stop_stage == 7:
        block = pooled_table([r for _, r in all_runs]) + [SPEED_NOTE, ""]
        if not args.name:
            from target import target_section

            block += target_section([(f.name, r, json.loads(metrics_file(f, args).parent.parent.joinpath(
                "forget_report.json").read_text()), gold_dir(f)) for f, r in all_runs])
        block += [f"Wall time of the runs above: {wall_seconds(forget_lists, args):.0f} s in all (the sum of "
                  "each run's stages 5-7 as ser.sh timed them; they ran two at a time, beside other jobs).", ""]
        print("\n".join(block), flush=True)
        lines += block
    if args.stop_stage == 7 and not args.name and not args.skip_selection:
        block = selection_table(forget_lists)
        print("\n".join(block), flush=True)
        lines += block
    if args.output:
        plot = args.output.with_suffix(".png")
        plot_results(results, plot)
        what = (f"`conf/unlearn.yaml` with `{args.unlearn_args}` ({args.name})" if args.name
                else "the default `conf/unlearn.yaml`")
        header = [f"# Benchmark: {what} against gold retraining and the baselines", "",
                  f"Made by `python bench/compare.py {shlex.join(sys.argv[1:])}` in the recipe directory after "
                  "`./run.sh --stop_stage 4`. Each table: one row per method, the mean over the forget sets and "
                  "the half-width of its 95 % t-interval (none with one run; wide with two); times in seconds; "
                  "speed-ups are gold's time over the method's, compute and process (README, docs/design.md "
                  "\"Timings\"). Per run, the paired 95 % interval of the unlearned model's test-UAR difference "
                  "from the original, and how many forget sets each method met, missed or left unresolved per bar "
                  "(docs/design.md, \"Bars\").", ""]
        args.output.write_text("\n".join(header + lines) + f"\n![per method and forget set]({plot.name})\n")


def plot_results(results, path: Path) -> None:
    """Test UAR minus the original's (paired, mean over forget sets) and mean
    gap to gold per method, one bar per forget-set kind (with its 95 %
    t-interval where there are at least 3 forget sets)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = list(next(iter(results.values()))[0]["models"])
    panels = [("test UAR minus original (points)", lambda m: m["vs"].get("original", {}).get("test_uar", {}).get("value")),
              ("mean gap to gold (points)", COLUMNS[5][1])]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    width = 0.8 / len(results)
    for ax, (title, f) in zip(axes, panels):
        for i, (label, runs) in enumerate(results.items()):
            means, halves = [], []
            for m in methods:
                values = [v for v in (f(r["models"][m]) for r in runs if m in r["models"]) if v is not None]
                mean, half = mean_interval(values)
                means.append(mean or 0.0)
                # a t-interval of two values spans the plot and says little: bars from 3 forget sets on
                halves.append(half if half is not None and len(values) >= 3 else 0.0)
            ax.bar([j + i * width for j in range(len(methods))], means, width, yerr=halves, capsize=2, label=label)
        ax.set_xticks([j + width * (len(results) - 1) / 2 for j in range(len(methods))], methods, rotation=30)
        ax.axhline(0, color="black", linewidth=0.5)
        ax.set_title(title)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
