"""Choose held-out utterances of the training speakers: N per speaker, spread
over the speaker's labels, seeded.  Prints their ids, sorted.

When N is not a multiple of the number of labels, some labels get one more
utterance than others for a speaker; which ones rotates over the speakers
(the labels held out least so far first, ties in a seeded random order), so
that over all speakers every label is held out in proportion.

    python -m espnet2_unlearn.bin.select_heldout --per_spk 8 --seed 0 data/train_all
"""

import argparse
import random
import sys
from collections import Counter
from pathlib import Path

from espnet2_unlearn.data.kaldi_dir import DataDirError, read_table


def select_heldout(utt2spk, text, per_spk: int, seed: int):
    rng = random.Random(seed)
    # Its own stream: the utterances drawn are those of the rng above
    # whatever the label order (a label order only matters when N is not a
    # multiple of the number of labels).
    order_rng = random.Random(f"labels-{seed}")
    held = Counter()
    chosen = []
    for spk in sorted(set(utt2spk.values())):
        by_label = {}
        for utt in sorted(u for u, s in utt2spk.items() if s == spk):
            by_label.setdefault(text[utt], []).append(utt)
        for utts in by_label.values():
            rng.shuffle(utts)
        # One per label in turn, the labels held out least so far first.
        tiebreak = {label: order_rng.random() for label in sorted(by_label)}
        labels = sorted(by_label, key=lambda label: (held[label], tiebreak[label]))
        picked = []
        while len(picked) < per_spk and any(by_label.values()):
            for label in labels:
                if by_label[label] and len(picked) < per_spk:
                    picked.append(by_label[label].pop())
        # Keep at least one utterance of the speaker for training.
        if len(picked) >= sum(1 for s in utt2spk.values() if s == spk):
            raise ValueError(f"speaker {spk} has only {len(picked)} utterances: none would be left for training")
        held.update(text[u] for u in picked)
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
