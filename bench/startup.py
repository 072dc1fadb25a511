"""Start-up of the processes a user waits for: from process start to the
first model call (stage 5's unlearn_train, stage 6's decode_sets) or to
the start of the work (stage 9's purge), each in fresh processes.

    python bench/startup.py --model_dir exp/ser_train_ser --runs 3 [--full_imports]

Run in a recipe directory after `./run.sh --stop_stage 4`.  Prints a
Markdown table: process, runs, median, min and max seconds.  With
--full_imports, ESPnet's task is imported with everything it imports
(ESPNET_UNLEARN_FULL_IMPORTS=1, espnet2_unlearn/espnet_imports.py), the
start-up before that module existed.
"""

import argparse
import os
import statistics
import subprocess
import sys

# The first model call, as stage 5 and stage 6 reach it: the model built and
# loaded strictly, one forward pass; printed: the process's age then.
FIRST_CALL = (
    "from espnet2_unlearn.model_file import load_model\n"
    "from espnet2_unlearn.model_calls import batched_logits\n"
    "import kaldiio, torch\n"
    "model, _ = load_model('{model_dir}/config.yaml', '{model_dir}/{model_file}')\n"
    "x = next(iter(kaldiio.load_scp('{feats}').values()))\n"
    "batched_logits(model.eval(), [torch.from_numpy(x)])\n")
AGE = "from espnet2_unlearn.unlearn.phases import process_age_s\nprint(process_age_s())\n"
PROBES = {  # each entry point's imports, then what counts for it
    "unlearn_train": "import espnet2_unlearn.bin.unlearn_train\n" + FIRST_CALL + AGE,  # stage 5
    "decode_sets": "import espnet2_unlearn.bin.decode_sets\n" + FIRST_CALL + AGE,  # stages 4, 6
    "purge": "import espnet2_unlearn.bin.purge\n" + AGE,  # stage 9 calls no model
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model_dir", default="exp/ser_train_ser")
    p.add_argument("--model_file", default="train.loss.ave.pth")
    p.add_argument("--feats", default="dump/fbank/train/feats.scp")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--full_imports", action="store_true")
    args = p.parse_args()
    env = dict(os.environ)
    if args.full_imports:
        env["ESPNET_UNLEARN_FULL_IMPORTS"] = "1"
    print(f"| process | runs | median s | min s | max s |{' (full imports)' if args.full_imports else ''}")
    print("|---|---|---|---|---|")
    for name, code in PROBES.items():
        code = code.format(model_dir=args.model_dir, model_file=args.model_file, feats=args.feats)
        ages = []
        for _ in range(args.runs):
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
            ages.append(float(out.stdout.strip().splitlines()[-1]))
        print(f"| {name} | {len(ages)} | {statistics.median(ages):.2f} | {min(ages):.2f} | {max(ages):.2f} |",
              flush=True)


if __name__ == "__main__":
    main()
