"""How long the forget accuracy stays exactly unchanged at the largest
learning rate, per stage-5 run: the figure behind the default
--step_relax_patience (the projection protects less only after that many
steps that moved no prediction; docs/design.md, "A step size that adapts").

    python bench/still_steps.py exp/unlearn_forget_n50_s* exp/unlearn_forget_n100_s* ...

Reads each run's forget_report.json (its step log and the steps after
which the rates grew); prints, per run, the longest run of consecutive
steps with an unchanged forget accuracy at the largest rate, and anywhere.
"""

import argparse
import json
import math
from pathlib import Path


def still_runs(report: dict) -> tuple:
    grown, log = report["step_growth_at"], report["step_log"]
    hyper = report["hyperparameters"]
    max_growths = round(math.log(hyper.get("step_growth_max", 8.0), hyper["step_growth"])) if hyper.get("step_growth", 1) > 1 else 0
    at_max = grown[max_growths - 1] if max_growths and len(grown) >= max_growths else None
    longest = longest_at_max = current = 0
    previous = None
    for entry in log:
        acc = round(entry["forget_accuracy"], 6)
        current = current + 1 if acc == previous else 0
        previous = acc
        longest = max(longest, current)
        if at_max is not None and entry["step"] > at_max:
            longest_at_max = max(longest_at_max, min(current, entry["step"] - at_max))
    return longest_at_max, longest, at_max


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", type=Path, help="stage-5 output dirs (or their .unreached dirs)")
    args = p.parse_args()
    print("| run | steps | reached | largest rate from step | longest still run there | anywhere |")
    print("|---|---|---|---|---|---|")
    for d in args.runs:
        f = d / "forget_report.json"
        if not f.is_file():
            continue
        r = json.loads(f.read_text())
        at_max_run, anywhere, at_max = still_runs(r)
        print(f"| {d.name} | {r['steps']} | {r['target']['reached']} | {at_max if at_max is not None else '-'} | "
              f"{at_max_run} | {anywhere} |")


if __name__ == "__main__":
    main()
