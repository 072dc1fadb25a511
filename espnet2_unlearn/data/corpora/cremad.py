"""CREMA-D (Cao et al., 2014): AudioWAV/AAAA_SSS_EEE_LL.wav (actor 1001-1091,
sentence, emotion ANG/DIS/FEA/HAP/NEU/SAD, intensity LO/MD/HI/XX), 16 kHz.
All six emotions are kept (the usual 6-class set-up)."""

import re
from pathlib import Path
from typing import List

from espnet2_unlearn.data.corpora.common import Utterance, scan_file_names

EMOTIONS = {"ANG": "angry", "DIS": "disgust", "FEA": "fearful", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}
NAME = re.compile(r"^(?P<speaker>\d{4})_[A-Z]{3}_(?P<emotion>[A-Z]{3})_[A-Z]{1,2}$")
DEFAULT_VALID = tuple(str(a) for a in range(1072, 1082))  # the last 20 actors by id, split in two
DEFAULT_TEST = tuple(str(a) for a in range(1082, 1092))
# Clips the corpus ships broken: file stem -> why, and where that is said.
KNOWN_BAD = {
    "1076_MTI_SAD_XX": "no usable audio (listed in the corpus's own README, CheyneyComputerScience/CREMA-D)",
}


def scan(root: Path) -> List[Utterance]:
    audio = root / "AudioWAV" if (root / "AudioWAV").is_dir() else root
    return scan_file_names(audio, "CREMA-D", NAME, "1001_DFA_ANG_XX.wav", EMOTIONS)
