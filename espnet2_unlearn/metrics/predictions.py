"""Reading what espnet2.bin.cls_inference wrote for a set of utterances."""

from pathlib import Path
from typing import Dict, List

import numpy as np

from espnet2_unlearn.data.kaldi_dir import read_table


def read_token_list(path) -> List[str]:
    """The classes of a cls token list: every line but the final <unk>."""
    with open(path, encoding="utf-8") as f:
        tokens = [line.strip() for line in f if line.strip()]
    if not tokens or tokens[-1] != "<unk>":
        raise ValueError(f"{path}: a classification token list ends with <unk>")
    return tokens[:-1]


def load_predictions(decode_dir, text_file, classes: List[str]) -> Dict[str, object]:
    """Reference labels, predicted labels and per-utterance cross-entropy
    (-log p of the reference class), from a cls_inference output dir run with
    --output_all_probabilities true."""
    pred_dir = Path(decode_dir) / "prediction"
    refs = read_table(text_file)
    scores = read_table(pred_dir / "score")
    missing = sorted(set(refs) - set(scores))
    if missing:
        raise ValueError(f"{pred_dir}/score has no prediction for utterance {missing[0]} of {text_file}")
    index = {c: i for i, c in enumerate(classes)}
    utts = sorted(refs)
    probs = np.array([[float(v) for v in scores[u].split()] for u in utts])
    if probs.shape[1] != len(classes):
        raise ValueError(
            f"{pred_dir}/score has {probs.shape[1]} probabilities per utterance, expected {len(classes)} "
            "(run cls_inference with --output_all_probabilities true)"
        )
    for u in utts:
        if refs[u] not in index:
            raise ValueError(f"{text_file}: label '{refs[u]}' of utterance {u} is not in the token list")
    ref_idx = np.array([index[refs[u]] for u in utts])
    loss = -np.log(np.clip(probs[np.arange(len(utts)), ref_idx], 1e-12, None))
    return {
        "utts": utts,
        "refs": [refs[u] for u in utts],
        "hyps": [classes[i] for i in probs.argmax(axis=1)],
        "probs": probs,
        "loss": loss,
    }
