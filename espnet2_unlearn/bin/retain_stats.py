"""The statistics directory of a retain set, derived from the training set's
(what `cls_train --collect_stats` wrote in stage 3) less the utterances the
retain set leaves out: feature count, sum and sum of squares, the length
statistics and the shape files.  The sums are additive, so this equals
collecting the retain set's statistics again (to float rounding), reading
only the left-out utterances' features instead of every retained one.

    python -m espnet2_unlearn.bin.retain_stats --train_stats_dir exp/ser_stats \
        --feats_scp dump/fbank/train/feats.scp --retain_dir dump/fbank/train_retain \
        --output_dir exp/gold_x_stats

Only for features that go into the model as they are (a config without a
front-end): the stage collects the statistics itself otherwise.
"""

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np

from espnet2_unlearn.data.kaldi_dir import DataDirError, read_table


def left_out_sums(feats_scp: Path, utts):
    """(frames, sum, sum of squares, lengths) of the features of `utts`."""
    import kaldiio

    scp = read_table(feats_scp)
    missing = [u for u in utts if u not in scp]
    if missing:
        raise DataDirError(f"{feats_scp}: no features for {missing[0]} ({len(missing)} utterances missing)")
    frames, total, square, lengths = 0, None, None, []
    for utt in utts:
        x = np.asarray(kaldiio.load_mat(scp[utt]), dtype=np.float64)
        total = x.sum(0) if total is None else total + x.sum(0)
        square = (x * x).sum(0) if square is None else square + (x * x).sum(0)
        frames += x.shape[0]
        lengths.append(x.shape[0])
    return frames, total, square, np.asarray(lengths, dtype=np.int64)


def write_npz(path: Path, arrays) -> None:
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def retain_stats(train_stats_dir: Path, feats_scp: Path, retain_dir: Path, output_dir: Path) -> int:
    """Writes output_dir (through a temporary dir); returns the number of utterances left out."""
    src = train_stats_dir / "train"
    shapes = read_table(src / "speech_shape")
    retain = read_table(retain_dir / "utt2spk")
    unknown = sorted(set(retain) - set(shapes))
    if unknown:
        raise DataDirError(
            f"{retain_dir}/utt2spk: {unknown[0]} is not in {src}/speech_shape "
            f"({len(unknown)} such): these statistics are not of the retain set's training set"
        )
    left_out = sorted(set(shapes) - set(retain))
    frames, total, square, lengths = left_out_sums(feats_scp, left_out)
    for utt, n in zip(left_out, lengths):
        if int(shapes[utt].split(",")[0]) != n:
            raise DataDirError(f"{src}/speech_shape: {utt} has {shapes[utt]}, its features in {feats_scp} {n} frames")

    feats = dict(np.load(src / "feats_stats.npz"))
    if left_out:
        if total.shape != feats["sum"].shape:
            raise DataDirError(f"{feats_scp}: features of dimension {total.shape[0]}, {src}/feats_stats.npz has {feats['sum'].shape[0]}")
        feats["count"] = np.asarray(int(feats["count"]) - frames, dtype=feats["count"].dtype)
        feats["sum"] = (feats["sum"].astype(np.float64) - total).astype(feats["sum"].dtype)
        feats["sum_square"] = (feats["sum_square"].astype(np.float64) - square).astype(feats["sum_square"].dtype)
    length_stats = dict(np.load(src / "feats_lengths_stats.npz"))
    length_stats["count"] = length_stats["count"] - len(lengths)
    length_stats["sum"] = length_stats["sum"] - lengths.sum()
    length_stats["sum_square"] = length_stats["sum_square"] - (lengths * lengths).sum()

    tmp = output_dir.with_name(output_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "train").mkdir(parents=True)
    shutil.copytree(train_stats_dir / "valid", tmp / "valid")
    for name in sorted(p.name for p in src.glob("*_shape")):
        table = read_table(src / name)
        with open(tmp / "train" / name, "w", encoding="utf-8") as f:
            f.writelines(f"{u} {table[u]}\n" for u in table if u in retain)
    write_npz(tmp / "train" / "feats_stats.npz", feats)
    write_npz(tmp / "train" / "feats_lengths_stats.npz", length_stats)
    shutil.rmtree(output_dir, ignore_errors=True)
    tmp.rename(output_dir)
    return len(left_out)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train_stats_dir", type=Path, required=True, help="collect_stats output of the training set")
    p.add_argument("--feats_scp", type=Path, required=True, help="feats.scp of the training set")
    p.add_argument("--retain_dir", type=Path, required=True, help="data dir of the retain set (its utt2spk)")
    p.add_argument("--output_dir", type=Path, required=True)
    args = p.parse_args(argv)
    try:
        n = retain_stats(args.train_stats_dir, args.feats_scp, args.retain_dir, args.output_dir)
    except (OSError, KeyError, DataDirError) as e:
        sys.exit(f"retain_stats: {e}")
    print(f"retain_stats: {args.output_dir}: statistics of {args.retain_dir}, {n} utterances left out of {args.train_stats_dir}")


if __name__ == "__main__":
    main()
