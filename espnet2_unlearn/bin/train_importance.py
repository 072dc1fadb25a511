"""The training data's importance of every weight of a trained model (the
diagonal of the Fisher information), stored beside the model as numbers so
that selective dampening at unlearning time reads no training data
(espnet2_unlearn/unlearn/dampening.py).  Stage 4 runs it after training:

    python -m espnet2_unlearn.bin.train_importance --model_dir exp/ser_train_ser \\
        --model_file train.loss.ave.pth \\
        --data_path_and_name_and_type dump/fbank/train/feats.scp,speech,kaldi_ark \\
        --data_path_and_name_and_type dump/fbank/train/text,label,text

writes exp/ser_train_ser/train_importance.pth.
"""

import argparse
import logging
import sys
import time

from espnet2_unlearn.unlearn import training_data
from espnet2_unlearn.unlearn.dampening import IMPORTANCE_FILE, fisher_diagonal, save_importance


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    training_data.add_arguments(p)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s")
    start = time.perf_counter()
    try:
        model, data, record = training_data.load(args)
    except ValueError as e:
        sys.exit(f"train_importance: {e}")
    importance = fisher_diagonal(model, data.speech, data.labels)
    save_importance(importance, args.model_dir / IMPORTANCE_FILE, record)
    logging.info(f"importance of {sum(t.numel() for t in importance.values())} weights over {len(data)} utterances "
                 f"in {time.perf_counter() - start:.1f} s: {args.model_dir / IMPORTANCE_FILE}")


if __name__ == "__main__":
    main()
