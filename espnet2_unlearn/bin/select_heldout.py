"""Choose held-out utterances of the training speakers: N per speaker, spread
over the speaker's labels, seeded.  Prints their ids, sorted.

    python -m espnet2_unlearn.bin.select_heldout --per_spk 8 --seed 0 data/train_all
"""

import argparse
import random
import sys
from pathlib import Path

from espnet2_unlearn.data.kaldi_dir import DataDirError, read_table


def select_heldout(utt2spk, text, per_spk: int, seed: int):
    rng = random.Random(seed)
    chosen = []
    for spk in sorted(set(utt2spk.values())):
        by_label = {}
        for utt in sorted(u for u, s in utt2spk.items() if s == spk):
            by_label.setdefault(text[utt], []).append(utt)
        for utts in by_label.values():
            rng.shuffle(utts)
        # Take one per label in turn, so every label is represented.
        labels = sorted(by_label)
        picked = []
        while len(picked) < per_spk and any(by_label.values()):
            for label in labels:
                if by_label[label] and len(picked) < per_spk:
                    picked.append(by_label[label].pop())
        # Keep at least one utterance of the speaker for training.
        if len(picked) >= sum(1 for s in utt2spk.values() if s == spk):
            raise ValueError(f"speaker {spk} has only {len(picked)} utterances: none would be left for training")
        chosen += picked
    return sorted(chosen)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--per_spk", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("data_dir", type=Path)
    args = p.parse_args(argv)
    try:
        utt2spk = read_table(args.data_dir / "utt2spk")
        text = read_table(args.data_dir / "text")
        utts = select_heldout(utt2spk, text, args.per_spk, args.seed)
    except (DataDirError, ValueError, OSError) as e:
        sys.exit(f"select_heldout: {e}")
    sys.stdout.write("".join(u + "\n" for u in utts))


if __name__ == "__main__":
    main()
