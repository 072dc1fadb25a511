"""What every corpus reader shares: the utterance record, the errors, and
writing Kaldi data dirs train/valid/test, all-or-nothing, with audio at
16 kHz mono (resampled copies where the corpus is not)."""

import logging
import re
import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional

import soundfile
from tqdm import tqdm

from espnet2_unlearn.data.kaldi_dir import replace_dirs, spk2utt_of, write_table

SAMPLE_RATE = 16000
SETS = ("train", "valid", "test")
LFS_POINTER = b"version https://git-lfs"  # how a git-lfs pointer file starts
SILENCE_RMS = 1e-4  # about -80 dBFS: below this a clip is reported as silent


class CorpusError(ValueError):
    """A corpus that cannot be read as expected; the message names the path or line."""


@dataclass(frozen=True)
class Utterance:
    utt: str  # <speaker>_<name>, so that utterances sort by speaker as Kaldi expects
    speaker: str
    emotion: str
    path: Path


def scan_file_names(audio: Path, corpus: str, name: "re.Pattern", example: str,
                    emotions: Dict[str, str]) -> List[Utterance]:
    """For corpora whose file names carry speaker and emotion: `name` matches
    a file's stem with groups named speaker and emotion."""
    wavs = sorted(audio.glob("*.wav"))
    if not wavs:
        raise CorpusError(f"{audio}: no wav file (expected {corpus}'s audio directory)")
    utts = []
    for wav in wavs:
        m = name.match(wav.stem)
        if not m:
            raise CorpusError(f"{wav}: not a {corpus} file name (like {example})")
        if m["emotion"] not in emotions:
            raise CorpusError(f"{wav}: unknown emotion code {m['emotion']} ({corpus} has {' '.join(emotions)})")
        utts.append(Utterance(f"{m['speaker']}_{wav.stem}", m["speaker"], emotions[m["emotion"]], wav))
    return utts


def check_root(root, env_name: str) -> Path:
    if not root:
        raise CorpusError(f"no corpus path given: set {env_name} in db.sh to where the corpus is")
    root = Path(root)
    if not root.is_dir():
        raise CorpusError(f"corpus path {root} does not exist or is not a directory (set {env_name} in db.sh)")
    return root


def speaker_sets(speakers: Iterable[str], valid: Iterable[str], test: Iterable[str]) -> Dict[str, str]:
    """Speaker -> set; every named valid or test speaker must be in the corpus."""
    speakers = set(speakers)
    valid, test = set(valid), set(test)
    for name, chosen in (("valid", valid), ("test", test)):
        missing = sorted(chosen - speakers)
        if missing:
            raise CorpusError(f"{name} speaker(s) {' '.join(missing)} have no utterance in the corpus")
    if valid & test:
        raise CorpusError(f"speaker(s) {' '.join(sorted(valid & test))} are in both valid and test")
    split = {s: "test" if s in test else "valid" if s in valid else "train" for s in speakers}
    if "train" not in split.values():
        raise CorpusError("no speaker is left for training")
    return split


def _to_16k_mono(src: Path, dst: Path) -> None:
    import torch
    import torchaudio

    audio, rate = soundfile.read(src, dtype="float32", always_2d=True)
    wave = torch.from_numpy(audio.mean(axis=1))
    if rate != SAMPLE_RATE:
        wave = torchaudio.functional.resample(wave, rate, SAMPLE_RATE)
    dst.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(dst, wave.numpy(), SAMPLE_RATE, subtype="PCM_16")


def check_not_lfs_pointer(path: Path) -> None:
    """A corpus cloned without git-lfs has small text files where its audio
    should be; say so instead of 'Format not recognised'."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(LFS_POINTER))
    except OSError:
        return  # reported as unreadable by the caller
    if head == LFS_POINTER:
        raise CorpusError(f"{path} is a git-lfs pointer file ({path.stat().st_size} bytes), not audio: the corpus "
                          "was cloned without git-lfs. Install git-lfs, run 'git lfs pull' in the corpus "
                          "directory, then run stage 1 again")


def skip_known_bad(utts: List[Utterance], known_bad: Dict[str, str]) -> List[Utterance]:
    """Drops the clips a corpus is known to ship broken (file stem -> why,
    with the source of the entry), one log line each."""
    kept = []
    for u in utts:
        if u.path.stem in known_bad:
            logging.info(f"skipping {u.path}: {known_bad[u.path.stem]}")
        else:
            kept.append(u)
    return kept


def silent_clips(utts: List[Utterance]) -> List[Utterance]:
    """The clips whose RMS is below SILENCE_RMS (silent or constant), for a
    warning: such a clip gives a flat feature matrix."""
    quiet = []
    for u in tqdm(utts, desc="checking levels", mininterval=5, file=sys.stderr):
        audio, _ = soundfile.read(str(u.path), dtype="float32", always_2d=True)
        if audio.size == 0 or float(((audio - audio.mean(axis=0)) ** 2).mean()) ** 0.5 < SILENCE_RMS:
            quiet.append(u)
    return quiet


def write_corpus(utts: List[Utterance], split: Dict[str, str], data_dir, wav_dir: Optional[Path] = None) -> None:
    """data_dir/{train,valid,test}; files not at 16 kHz mono are converted
    into wav_dir.  Everything is checked before anything is written."""
    data_dir = Path(data_dir)
    if not utts:
        raise CorpusError("no utterance found")
    seen = {}
    convert = []
    for u in utts:
        if u.utt in seen:
            raise CorpusError(f"utterance id {u.utt} made twice: {seen[u.utt]} and {u.path}")
        seen[u.utt] = u.path
        check_not_lfs_pointer(u.path)
        try:
            info = soundfile.info(str(u.path))
        except Exception as e:  # a missing or unreadable file
            raise CorpusError(f"cannot read {u.path}: {e}") from e
        if info.samplerate != SAMPLE_RATE or info.channels != 1:
            convert.append(u)
    for s in SETS:
        if not any(split[u.speaker] == s for u in utts):
            raise CorpusError(f"the {s} set would be empty")
    if convert and wav_dir is None:
        raise CorpusError(f"{convert[0].path} is not 16 kHz mono and no --wav_dir was given for converted copies")
    for u in silent_clips(utts):
        logging.warning(f"{u.path} ({u.utt}) is silent or constant (RMS below {SILENCE_RMS:g} after removing its "
                        "mean): its features will be flat; consider leaving it out")

    data_tmp = data_dir / ".corpus.tmp"
    shutil.rmtree(data_tmp, ignore_errors=True)
    location = {u.utt: str(u.path) for u in utts}
    wav_tmp = None
    if convert:
        wav_tmp = wav_dir.with_name(wav_dir.name + ".tmp")
        shutil.rmtree(wav_tmp, ignore_errors=True)
        for u in tqdm(convert, desc="resampling to 16 kHz mono", mininterval=5, file=sys.stderr):
            rel = Path(u.speaker) / f"{u.utt}.wav"
            _to_16k_mono(u.path, wav_tmp / rel)
            location[u.utt] = str(wav_dir / rel)
    for s in SETS:
        mine = [u for u in utts if split[u.speaker] == s]
        d = data_tmp / s
        d.mkdir(parents=True)
        write_table(d / "wav.scp", {u.utt: location[u.utt] for u in mine})
        write_table(d / "text", {u.utt: u.emotion for u in mine})
        utt2spk = {u.utt: u.speaker for u in mine}
        write_table(d / "utt2spk", utt2spk)
        write_table(d / "spk2utt", spk2utt_of(utt2spk))
    if wav_tmp is not None:
        replace_dirs([(wav_tmp, wav_dir)])
    replace_dirs((data_tmp / s, data_dir / s) for s in SETS)
    data_tmp.rmdir()
    for s in SETS:
        mine = [u for u in utts if split[u.speaker] == s]
        counts = Counter(u.emotion for u in mine)
        logging.info(f"{data_dir / s}: {len(mine)} utterances, {len({u.speaker for u in mine})} speakers; "
                     + ", ".join(f"{e} {n}" for e, n in sorted(counts.items())))
