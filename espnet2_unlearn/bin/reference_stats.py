"""Summarise a trained model's predictions on held-out sets as numbers only:
accuracy, UAR, macro-F1 and per-utterance loss quantiles.  Later stages use
them as references (e.g. the forget-accuracy target of unlearning) without
reading any data.

    python -m espnet2_unlearn.bin.reference_stats --token_list data/token_list \\
        --output exp/ser/reference_stats.json \\
        heldout=dump/fbank/heldout/text,exp/ser/decode/heldout valid=...
"""

import argparse
import json
import logging
import os
import sys

import numpy as np

from espnet2_unlearn.metrics import bootstrap
from espnet2_unlearn.metrics.classification import classification_scores
from espnet2_unlearn.metrics.predictions import load_predictions, read_token_list

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
# The whole distribution, for a two-sample test against the forget set's
# losses (unlearn/stopping.py, stop_metric distribution): every percentile,
# the extremes included.
PERCENTILES = tuple(q / 100 for q in range(0, 101))


def summarise(pred, classes) -> dict:
    stats = classification_scores(pred["refs"], pred["hyps"], classes)
    # How precise the figure is as a reference (e.g. the 'auto' forget target), in points.
    stats["accuracy_interval"] = bootstrap.single(np.asarray(pred["refs"]) == np.asarray(pred["hyps"]), 0)
    stats["mean_loss"] = float(np.mean(pred["loss"]))
    stats["loss_quantiles"] = {str(q): float(np.quantile(pred["loss"], q)) for q in QUANTILES}
    stats["loss_percentiles"] = {str(q): float(np.quantile(pred["loss"], q)) for q in PERCENTILES}
    return stats


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--token_list", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--model", default="", help="the model file the predictions came from (recorded)")
    p.add_argument("sets", nargs="+", help="NAME=TEXT_FILE,DECODE_DIR")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s: %(message)s")
    try:
        classes = read_token_list(args.token_list)
        out = {"model": args.model, "classes": classes, "sets": {}}
        for spec in args.sets:
            name, _, paths = spec.partition("=")
            text, _, decode_dir = paths.partition(",")
            if not (name and text and decode_dir):
                raise ValueError(f"expected NAME=TEXT_FILE,DECODE_DIR, got '{spec}'")
            out["sets"][name] = summarise(load_predictions(decode_dir, text, classes), classes)
            s = out["sets"][name]
            logging.info(f"{name}: accuracy {s['accuracy']:.3f}  UAR {s['uar']:.3f}  ({s['num_utts']} utterances)")
    except (ValueError, OSError) as e:
        sys.exit(f"reference_stats: {e}")
    tmp = args.output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    os.replace(tmp, args.output)


if __name__ == "__main__":
    main()
