"""Berlin EmoDB (Burkhardt et al., 2005): wav/SSTTTEV.wav (speaker 03-16,
text a01-b10, emotion letter of the German word, version), 16 kHz.  All
seven emotions are kept (the usual 7-class set-up)."""

import re
from pathlib import Path
from typing import List

from espnet2_unlearn.data.corpora.common import Utterance, scan_file_names

EMOTIONS = {"W": "angry", "L": "bored", "E": "disgust", "A": "fearful", "F": "happy", "T": "sad", "N": "neutral"}
NAME = re.compile(r"^(?P<speaker>\d\d)[ab]\d\d(?P<emotion>[A-Z])[a-z]$")
# Speakers 03 10 11 12 15 are male, 08 09 13 14 16 female: one of each in valid and test.
DEFAULT_VALID = ("12", "14")
DEFAULT_TEST = ("15", "16")

# Clips the corpus ships broken (file stem -> why, and the source): none known.
KNOWN_BAD = {}

def scan(root: Path) -> List[Utterance]:
    audio = root / "wav" if (root / "wav").is_dir() else root
    return scan_file_names(audio, "EmoDB", NAME, "03a01Fa.wav", EMOTIONS)
