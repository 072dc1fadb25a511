"""Unlearning cost and effect against the forget-set size, on a trained
recipe (run from its directory after stage 4):

    python bench/unlearn_sizes.py --sizes 10 50 100 --seed 0

For each size N: N random training utterances (make_forget, seeded) are
forgotten with stage 5's entry point in a process of its own.  Prints the
unlearning wall time (the run's own figure, without process start-up), the
process's peak RSS, and forget-set accuracy and test UAR before and after.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import kaldiio
import torch

from espnet2.tasks.cls import CLSTask
from espnet2_unlearn.data.kaldi_dir import read_table
from espnet2_unlearn.metrics.classification import classification_scores


def predict(config, model_file, feats_scp, utts):
    """Per-utterance predictions (batch 1, as espnet2.bin.cls_inference)."""
    model, args = CLSTask.build_model_from_file(config, model_file, "cpu")
    model.eval()
    classes = args.token_list[:-1]
    feats = kaldiio.load_scp(feats_scp)
    with torch.no_grad():
        out = []
        for u in utts:
            x = torch.from_numpy(feats[u].copy())[None]
            out.append(classes[int(model.score(x, torch.tensor([x.shape[1]])).argmax())])
    return out, classes


def scores(config, model_file, feats_dir, utts):
    text = read_table(Path(feats_dir) / "text")
    hyps, classes = predict(config, model_file, str(Path(feats_dir) / "feats.scp"), utts)
    return classification_scores([text[u] for u in utts], hyps, classes)


def run_measured(cmd):
    """Runs cmd; returns (exit status, peak RSS of that process in MiB, seconds)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    err = proc.stderr.read()
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024, time.perf_counter() - start, err


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ser_exp", default="exp/ser_train_ser")
    p.add_argument("--inference_model", default="valid.acc.best.pth")
    p.add_argument("--feats_dir", default="dump/fbank")
    p.add_argument("--config", default="conf/unlearn.yaml")
    p.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 100])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--unlearn_args", default="", help="extra options for unlearn_train")
    args = p.parse_args()

    exp = Path(args.ser_exp)
    config, model = exp / "config.yaml", exp / args.inference_model
    test_utts = sorted(read_table(Path(args.feats_dir) / "test/text"))
    test_before = scores(config, model, f"{args.feats_dir}/test", test_utts)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            forget = Path(tmp) / f"forget{n}"
            subprocess.run([sys.executable, "-m", "espnet2_unlearn.bin.make_forget", "--num_utts", str(n),
                            "--seed", str(args.seed), "data/train", str(forget)], check=True,
                           stderr=subprocess.DEVNULL)
            out = Path(tmp) / f"unlearn{n}"
            code, rss, seconds, err = run_measured([
                sys.executable, "-m", "espnet2_unlearn.bin.unlearn_train", "--config", args.config,
                "--source_model", str(model), "--forget_list", str(forget), "--seed", str(args.seed),
                "--forget_data_path_and_name_and_type", f"{args.feats_dir}/train/feats.scp,speech,kaldi_ark",
                "--forget_data_path_and_name_and_type", f"{args.feats_dir}/train/text,label,text",
                "--output_dir", str(out), *args.unlearn_args.split()])
            if code != 0:
                sys.exit(f"unlearning N={n} failed:\n{err[-3000:]}")
            report = json.loads((out / "forget_report.json").read_text())
            test_after = scores(out / "config.yaml", out / "unlearned.pth", f"{args.feats_dir}/test", test_utts)
            rows.append((n, report, rss, seconds, test_after))
            shutil.rmtree(out)

    print(f"model {model}; test UAR before {100 * test_before['uar']:.1f}")
    print("| N | steps | unlearn s | process s | peak RSS MiB | forget acc before | after | target "
          "| test UAR before | after |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n, r, rss, seconds, after in rows:
        print(f"| {n} | {r['steps']} | {r['wall_time_s']:.1f} | {seconds:.1f} | {rss:.0f} "
              f"| {100 * r['forget_accuracy_before']:.1f} | {100 * r['forget_accuracy_after']:.1f} "
              f"| {100 * r['target']['value']:.1f} | {100 * test_before['uar']:.1f} | {100 * after['uar']:.1f} |")


if __name__ == "__main__":
    main()
