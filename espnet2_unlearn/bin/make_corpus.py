"""Generate the built-in emotional speech corpus as wav files plus Kaldi data
directories `train`, `valid` and `test` (no speaker in two of them).

    python -m espnet2_unlearn.bin.make_corpus --data_dir data --wav_dir downloads/builtin
"""

import argparse
import logging
import os
import shutil
import sys
from pathlib import Path

import soundfile
from tqdm import tqdm

from espnet2_unlearn.data import builtin_corpus as corpus
from espnet2_unlearn.data.kaldi_dir import replace_dirs, spk2utt_of, write_table


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data_dir", type=Path, default=Path("data"))
    p.add_argument("--wav_dir", type=Path, default=Path("downloads/builtin"))
    p.add_argument("--num_speakers", type=int, default=20)
    p.add_argument("--num_valid_speakers", type=int, default=4)
    p.add_argument("--num_test_speakers", type=int, default=4)
    p.add_argument("--utts_per_emotion", type=int, default=16, help="per speaker")
    p.add_argument("--seed", type=int, default=0)
    return p


def main(argv=None) -> None:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s: %(message)s")
    if args.utts_per_emotion < 1:
        sys.exit(f"make_corpus: --utts_per_emotion must be at least 1, got {args.utts_per_emotion}")
    try:
        split = corpus.speaker_split(args.num_speakers, args.num_valid_speakers, args.num_test_speakers)
    except ValueError as e:
        sys.exit(f"make_corpus: {e}")
    speakers = {s.name: s for s in corpus.make_speakers(args.num_speakers, args.seed)}
    utts = corpus.plan_corpus(args.num_speakers, args.utts_per_emotion, args.seed)

    # Everything is written under temporary names and renamed at the end.
    wav_tmp = args.wav_dir.with_name(args.wav_dir.name + ".tmp")
    data_tmp = args.data_dir / ".builtin.tmp"
    for d in (wav_tmp, data_tmp):
        shutil.rmtree(d, ignore_errors=True)
    tables = {s: {"wav.scp": {}, "text": {}, "utt2spk": {}} for s in ("train", "valid", "test")}
    for utt in tqdm(utts, desc="synthesising", mininterval=5, file=sys.stderr):
        audio = corpus.synthesize(speakers[utt.speaker], utt.emotion, utt.seed)
        rel = Path(utt.speaker) / f"{utt.utt_id}.wav"
        (wav_tmp / utt.speaker).mkdir(parents=True, exist_ok=True)
        soundfile.write(wav_tmp / rel, audio, corpus.SAMPLE_RATE, subtype="PCM_16")
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
