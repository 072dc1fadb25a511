"""RAVDESS (Livingstone & Russo, 2018), the audio-only speech part
(Audio_Speech_Actors_01-24.zip): Actor_01/ ... Actor_24/, files named
MM-VV-EE-II-SS-RR-AA.wav (modality 03 = audio-only, vocal channel 01 =
speech, emotion, intensity, statement, repetition, actor; odd actors are
male).  48 kHz: stage 1 writes 16 kHz copies.

All eight emotions are kept, as in most published RAVDESS results
(8-class accuracy); --merge_calm folds calm into neutral (7 classes)."""

from pathlib import Path
from typing import List

from espnet2_unlearn.data.corpora.common import CorpusError, Utterance

EMOTIONS = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry", "06": "fearful",
            "07": "disgust", "08": "surprised"}
DEFAULT_VALID = ("Actor_21", "Actor_22")  # one male, one female
DEFAULT_TEST = ("Actor_23", "Actor_24")

# Clips the corpus ships broken (file stem -> why, and the source): none known.
KNOWN_BAD = {}

def scan(root: Path, merge_calm: bool = False) -> List[Utterance]:
    actor_dirs = sorted(p for p in root.rglob("Actor_*") if p.is_dir())
    if not actor_dirs:
        raise CorpusError(f"{root}: no Actor_NN directory (expected the layout of Audio_Speech_Actors_01-24.zip)")
    utts = []
    for d in actor_dirs:
        for wav in sorted(d.glob("*.wav")):
            fields = wav.stem.split("-")
            if len(fields) != 7 or not all(len(f) == 2 and f.isdigit() for f in fields):
                raise CorpusError(f"{wav}: not a RAVDESS file name (MM-VV-EE-II-SS-RR-AA.wav)")
            modality, channel, emotion, _, _, _, actor = fields
            if f"Actor_{actor}" != d.name:
                raise CorpusError(f"{wav}: actor {actor} of the file name is not that of its directory {d.name}")
            if modality != "03" or channel != "01":
                continue  # video or song files, if extracted alongside
            if emotion not in EMOTIONS:
                raise CorpusError(f"{wav}: unknown emotion code {emotion} (RAVDESS has 01-08)")
            label = EMOTIONS[emotion]
            if merge_calm and label == "calm":
                label = "neutral"
            utts.append(Utterance(f"{d.name}_{wav.stem}", d.name, label, wav))
    return utts
