"""Tiny stand-ins for the real corpora: their directory layout, file names
and label files, with short generated audio."""

from pathlib import Path

import numpy as np
import soundfile


def tone(path: Path, rate: int = 16000, seconds: float = 0.4, channels: int = 1, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    x = 0.3 * np.sin(2 * np.pi * (120 + 40 * rng.random()) * t) + 0.01 * rng.standard_normal(t.size)
    if channels > 1:
        x = np.stack([x] * channels, axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, x.astype(np.float32), rate, subtype="PCM_16")


def make_ravdess(root: Path, actors=range(1, 25), emotions=("01", "02", "03", "05")) -> Path:
    """Audio_Speech_Actors_01-24 layout, 48 kHz (one stereo file, as some are)."""
    for a in actors:
        for e in emotions:
            for rep in ("01", "02"):
                name = f"03-01-{e}-01-01-{rep}-{a:02d}.wav"
                tone(root / f"Actor_{a:02d}" / name, rate=48000, seconds=0.3,
                     channels=2 if (a, e, rep) == (1, "01", "01") else 1, seed=a)
    return root


def make_cremad(root: Path, actors=range(1001, 1092, 6), emotions=("ANG", "HAP", "NEU", "SAD")) -> Path:
    for a in sorted(set(actors) | set(range(1072, 1092))):
        for e in emotions:
            for sentence in ("DFA", "IEO"):
                tone(root / "AudioWAV" / f"{a}_{sentence}_{e}_XX.wav", seed=a)
    return root


def make_emodb(root: Path, speakers=("03", "08", "09", "10", "11", "12", "13", "14", "15", "16"),
               emotions="WFTN") -> Path:
    for s in speakers:
        for e in emotions:
            for text in ("a01", "b02"):
                tone(root / "wav" / f"{s}{text}{e}a.wav", seed=int(s))
    return root


def make_iemocap(root: Path, labels=("neu", "hap", "exc", "ang", "sad", "fru", "xxx")) -> Path:
    """Per session, one improvised and one scripted dialogue, each turn by
    both actors; EmoEvaluation files in the real format."""
    for n in range(1, 6):
        for dialog in (f"Ses0{n}F_impro01", f"Ses0{n}M_script01_1"):
            lines = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
            for i, label in enumerate(labels):
                for gender in "FM":
                    utt = f"{dialog}_{gender}{i:03d}"
                    tone(root / f"Session{n}/sentences/wav/{dialog}/{utt}.wav", seed=n * 100 + i)
                    lines += [f"[{i * 3.0:.4f} - {i * 3.0 + 2.5:.4f}]\t{utt}\t{label}\t[2.5000, 3.0000, 2.5000]",
                              "C-E1:\tNeutral;\t()", "A-E1:\tval 3; act 2; dom  3;\t()", ""]
            f = root / f"Session{n}/dialog/EmoEvaluation/{dialog}.txt"
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text("\n".join(lines) + "\n")
    return root
