"""CREMA-D (Cao et al., 2014): AudioWAV/AAAA_SSS_EEE_LL.wav (actor 1001-1091,
sentence, emotion ANG/DIS/FEA/HAP/NEU/SAD, intensity LO/MD/HI/XX), 16 kHz.
All six emotions are kept (the usual 6-class set-up)."""

import re
from pathlib import Path
from typing import List

from espnet2_unlearn.data.corpora.common import CorpusError, Utterance

EMOTIONS = {"ANG": "angry", "DIS": "disgust", "FEA": "fearful", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}
NAME = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{1,2})$")
DEFAULT_VALID = tuple(str(a) for a in range(1072, 1082))  # the last 20 actors by id, split in two
DEFAULT_TEST = tuple(str(a) for a in range(1082, 1092))


def scan(root: Path) -> List[Utterance]:
    audio = root / "AudioWAV" if (root / "AudioWAV").is_dir() else root
    wavs = sorted(audio.glob("*.wav"))
    if not wavs:
        raise CorpusError(f"{audio}: no wav file (expected CREMA-D's AudioWAV/ directory)")
    utts = []
    for wav in wavs:
        m = NAME.match(wav.stem)
        if not m:
            raise CorpusError(f"{wav}: not a CREMA-D file name (AAAA_SSS_EEE_LL.wav)")
        actor, _, emotion, _ = m.groups()
        if emotion not in EMOTIONS:
            raise CorpusError(f"{wav}: unknown emotion code {emotion} (CREMA-D has {' '.join(EMOTIONS)})")
        utts.append(Utterance(f"{actor}_{wav.stem}", actor, EMOTIONS[emotion], wav))
    return utts
