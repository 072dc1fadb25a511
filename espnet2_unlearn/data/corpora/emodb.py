"""Berlin EmoDB (Burkhardt et al., 2005): wav/SSTTTEV.wav (speaker 03-16,
text a01-b10, emotion letter of the German word, version), 16 kHz.  All
seven emotions are kept (the usual 7-class set-up)."""

import re
from pathlib import Path
from typing import List

from espnet2_unlearn.data.corpora.common import CorpusError, Utterance

EMOTIONS = {"W": "angry", "L": "bored", "E": "disgust", "A": "fearful", "F": "happy", "T": "sad", "N": "neutral"}
NAME = re.compile(r"^(\d\d)([ab]\d\d)([A-Z])([a-z])$")
# Speakers 03 10 11 12 15 are male, 08 09 13 14 16 female: one of each in valid and test.
DEFAULT_VALID = ("12", "14")
DEFAULT_TEST = ("15", "16")


def scan(root: Path) -> List[Utterance]:
    audio = root / "wav" if (root / "wav").is_dir() else root
    wavs = sorted(audio.glob("*.wav"))
    if not wavs:
        raise CorpusError(f"{audio}: no wav file (expected EmoDB's wav/ directory)")
    utts = []
    for wav in wavs:
        m = NAME.match(wav.stem)
        if not m:
            raise CorpusError(f"{wav}: not an EmoDB file name (e.g. 03a01Fa.wav)")
        speaker, _, emotion, _ = m.groups()
        if emotion not in EMOTIONS:
            raise CorpusError(f"{wav}: unknown emotion code {emotion} (EmoDB has {' '.join(EMOTIONS)})")
        utts.append(Utterance(f"{speaker}_{wav.stem}", speaker, EMOTIONS[emotion], wav))
    return utts
