"""Make a forget request as a Kaldi data dir, a subset of the training data:
N random utterances (seeded), or every utterance of the given speakers.

    python -m espnet2_unlearn.bin.make_forget --num_utts 50 --seed 0 data/train data/forget
    python -m espnet2_unlearn.bin.make_forget --speakers spk03,spk07 data/train data/forget_spk03_spk07
"""

import argparse
import random
import shutil
import sys
from pathlib import Path

from espnet2_unlearn.data.kaldi_dir import DataDirError, read_table, replace_dirs, spk2utt_of, write_table

TABLES = ("wav.scp", "feats.scp", "text", "utt2spk", "utt2num_frames", "utt2dur", "segments")


def choose(utt2spk, num_utts, speakers, seed):
    if speakers:
        known = set(utt2spk.values())
        for spk in speakers:
            if spk not in known:
                raise ValueError(f"speaker {spk} has no utterance in the training data")
        return sorted(u for u, s in utt2spk.items() if s in set(speakers))
    if not 0 < num_utts <= len(utt2spk):
        raise ValueError(f"--num_utts must be between 1 and {len(utt2spk)} (the training utterances), got {num_utts}")
    return sorted(random.Random(seed).sample(sorted(utt2spk), num_utts))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--num_utts", type=int, default=50, help="random utterances to forget")
    p.add_argument("--speakers", default="", help="comma-separated speakers to forget entirely")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("train_dir", type=Path)
    p.add_argument("out_dir", type=Path)
    args = p.parse_args(argv)
    if args.out_dir.exists():
        sys.exit(f"make_forget: {args.out_dir} already exists")
    speakers = [s for s in args.speakers.split(",") if s]
    try:
        utt2spk = read_table(args.train_dir / "utt2spk")
        utts = set(choose(utt2spk, args.num_utts, speakers, args.seed))
        tmp = args.out_dir.with_name(f".{args.out_dir.name}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for name in TABLES:
            if (args.train_dir / name).is_file():
                table = read_table(args.train_dir / name)
                write_table(tmp / name, {u: table[u] for u in utts if u in table})
        write_table(tmp / "spk2utt", spk2utt_of({u: utt2spk[u] for u in utts}))
    except (DataDirError, ValueError, OSError) as e:
        sys.exit(f"make_forget: {e}")
    replace_dirs([(tmp, args.out_dir)])
    what = f"all utterances of {', '.join(speakers)}" if speakers else f"{len(utts)} random utterances (seed {args.seed})"
    print(f"make_forget: {args.out_dir}: {len(utts)} utterances of {args.train_dir}: {what}", file=sys.stderr)


if __name__ == "__main__":
    main()
