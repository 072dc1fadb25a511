"""Generate the built-in emotional speech corpus as wav files plus Kaldi data
directories `train`, `valid` and `test` (no speaker in two of them).

    python -m espnet2_unlearn.bin.make_corpus --data_dir data --wav_dir downloads/builtin
"""

import argparse
import logging
import os
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import soundfile
from tqdm import tqdm

from espnet2_unlearn.data import builtin_corpus as corpus
from espnet2_unlearn.data.kaldi_dir import replace_dirs, spk2utt_of, write_table


def _synthesize_to(job):
    """Writes one utterance under wav_dir; returns its path relative to it."""
    speaker, utt, wav_dir = job
    rel = Path(utt.speaker) / f"{utt.utt_id}.wav"
    (wav_dir / utt.speaker).mkdir(parents=True, exist_ok=True)
    soundfile.write(wav_dir / rel, corpus.synthesize(speaker, utt.emotion, utt.seed), corpus.SAMPLE_RATE,
                    subtype="PCM_16")
    return rel


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data_dir", type=Path, default=Path("data"))
    p.add_argument("--wav_dir", type=Path, default=Path("downloads/builtin"))
    p.add_argument("--num_speakers", type=int, default=28)
    p.add_argument("--num_valid_speakers", type=int, default=8)
    p.add_argument("--num_test_speakers", type=int, default=8)
    p.add_argument("--utts_per_emotion", type=int, default=16, help="per training speaker")
    p.add_argument("--valid_utts_per_emotion", type=int, default=None,
                   help="per valid speaker (default: --utts_per_emotion)")
    p.add_argument("--test_utts_per_emotion", type=int, default=None,
                   help="per test speaker (default: --utts_per_emotion)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--nj", type=int, default=min(4, os.cpu_count() or 1), help="synthesis processes")
    return p


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s: %(message)s")
    per_split = {"train": args.utts_per_emotion, "valid": args.valid_utts_per_emotion,
                 "test": args.test_utts_per_emotion}
    per_split = {k: args.utts_per_emotion if v is None else v for k, v in per_split.items()}
    for name in ("utts_per_emotion", "valid_utts_per_emotion", "test_utts_per_emotion"):
        if getattr(args, name) is None:
            continue
        if getattr(args, name) < 1:
            sys.exit(f"make_corpus: --{name} must be at least 1, got {getattr(args, name)}")
    try:
        split = corpus.speaker_split(args.num_speakers, args.num_valid_speakers, args.num_test_speakers)
    except ValueError as e:
        sys.exit(f"make_corpus: {e}")
    speakers = {s.name: s for s in corpus.make_speakers(args.num_speakers, args.seed)}
    utts = corpus.plan_corpus(
        args.num_speakers,
        lambda spk: per_split[split[spk]],
        args.seed)

    # Everything is written under temporary names and renamed at the end.
    wav_tmp = args.wav_dir.with_name(args.wav_dir.name + ".tmp")
    data_tmp = args.data_dir / ".builtin.tmp"
    for d in (wav_tmp, data_tmp):
        shutil.rmtree(d, ignore_errors=True)
    tables = {s: {"wav.scp": {}, "text": {}, "utt2spk": {}} for s in ("train", "valid", "test")}
    jobs = [(speakers[u.speaker], u, wav_tmp) for u in utts]
    # Each utterance depends only on its own seed, so the processes change
    # nothing but the time.
    with ProcessPoolExecutor(max_workers=max(1, args.nj)) as pool:
        for utt, rel in tqdm(zip(utts, pool.map(_synthesize_to, jobs, chunksize=64)), total=len(utts),
                             desc="synthesising", mininterval=5, file=sys.stderr):
            t = tables[split[utt.speaker]]
            t["wav.scp"][utt.utt_id] = str(args.wav_dir / rel)
            t["text"][utt.utt_id] = utt.emotion
            t["utt2spk"][utt.utt_id] = utt.speaker
    for name, t in tables.items():
        d = data_tmp / name
        d.mkdir(parents=True)
        for fname, table in t.items():
            write_table(d / fname, table)
        write_table(d / "spk2utt", spk2utt_of(t["utt2spk"]))
        write_table(d / "spk2gender", {s: speakers[s].gender for s in set(t["utt2spk"].values())})
    replace_dirs([(wav_tmp, args.wav_dir)])
    replace_dirs((data_tmp / name, args.data_dir / name) for name in tables)
    os.rmdir(data_tmp)
    for name, t in tables.items():
        spks = sorted(set(t["utt2spk"].values()))
        logging.info(f"{args.data_dir / name}: {len(t['text'])} utterances, speakers {' '.join(spks)}")


if __name__ == "__main__":
    main()
