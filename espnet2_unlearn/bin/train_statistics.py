"""Per-layer statistics of a trained model's training data (input Gram
matrices and K-FAC output-gradient factors, espnet2_unlearn/unlearn/
layer_statistics.py), stored beside the model as numbers so that the projected
updates of unlearning read no training data.  Stage 4
runs it after training; for a model of another recipe, run it once with that
recipe's training data, before the first deletion request:

    python -m espnet2_unlearn.bin.train_statistics --model_dir exp/cls_train_raw \\
        --model_file valid.acc.best.pth \\
        --data_path_and_name_and_type dump/raw/train/wav.scp,speech,sound \\
        --data_path_and_name_and_type dump/raw/train/text,label,text

writes exp/cls_train_raw/train_statistics.pth.
"""

import argparse
import logging
import sys
import time

from tqdm import tqdm

from espnet2_unlearn.unlearn import layer_statistics, training_data


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    training_data.add_arguments(p)
    p.add_argument("--seed", type=int, default=0, help="of the labels drawn from the model's predictions")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s")
    start = time.perf_counter()
    try:
        model, data, record = training_data.load(args)
        stats = layer_statistics.accumulate(
            model, tqdm(data.speech, desc="statistics", mininterval=10, file=sys.stderr), data.utts, args.seed)
    except (ValueError, layer_statistics.StatisticsError) as e:
        sys.exit(f"train_statistics: {e}")
    record.update(seed=args.seed, downdated_by=[])
    out = args.model_dir / layer_statistics.STATISTICS_FILE
    layer_statistics.save(stats, out, record)
    logging.info(f"statistics of {len(stats['layers'])} layers over {len(data)} utterances in "
                 f"{time.perf_counter() - start:.1f} s: {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
