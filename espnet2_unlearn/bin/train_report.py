"""Writes train_report.json of a training that stage 7 ran (gold standard or
fine-tune baseline): its two timings and what it was trained on.

    python -m espnet2_unlearn.bin.train_report --exp_dir exp/gold_x --process_time_s 412.5 \\
        --num_train_utts 622 --forget_key 3fa1c0d2e9b7 --forget_list data/forget

compute_time_s is the training loop as ESPnet's train.log dates it, from
the first epoch's start to the end of the last epoch; process_time_s is
what the stage measured around the whole job (statistics, start-up, the
loop, checkpoint averaging).
"""

import argparse
import json
import os
import re
import sys
from datetime import datetime
from pathlib import Path

STAMP = r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})"


def training_loop_seconds(train_log: Path) -> float:
    first = last = None
    with open(train_log, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.search(STAMP + r".* INFO: (1/\d+epoch started|\d+epoch results:)", line)
            if m:
                t = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f")
                if m.group(2).startswith("1/") and first is None:
                    first = t
                elif "results" in m.group(2):
                    last = t
    if first is None or last is None:
        raise ValueError(f"{train_log}: no epoch start and result lines of ESPnet's trainer")
    return (last - first).total_seconds()


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--exp_dir", type=Path, required=True)
    p.add_argument("--process_time_s", type=float, required=True)
    p.add_argument("--num_train_utts", type=int, required=True)
    p.add_argument("--forget_key", default=None, help="content key of the forget list left out")
    p.add_argument("--forget_list", default=None)
    p.add_argument("--source_config", default=None, help="config the training followed")
    args = p.parse_args(argv)
    try:
        compute = training_loop_seconds(args.exp_dir / "train.log")
    except (OSError, ValueError) as e:
        sys.exit(f"train_report: {e}")
    report = {"compute_time_s": compute, "process_time_s": args.process_time_s,
              "num_train_utts": args.num_train_utts, "forget_key": args.forget_key,
              "forget_list": args.forget_list, "source_config": args.source_config}
    tmp = args.exp_dir / "train_report.json.tmp"
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    os.replace(tmp, args.exp_dir / "train_report.json")


if __name__ == "__main__":
    main()
