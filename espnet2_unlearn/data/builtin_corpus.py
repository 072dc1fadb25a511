"""The built-in emotional speech corpus: speech-like audio made by a
source-filter synthesiser, so that the recipe runs with no download.

Each speaker has a voice of their own (pitch, vocal-tract length, spectral
tilt, breathiness, speaking rate and how strongly they express emotion).
Emotion moves the prosody: pitch level and range, loudness, speaking rate and
spectral tilt.  The shifts are of the same size as the differences between
speakers and between utterances, so that recognising the emotion of an
unseen speaker is possible but far from certain, while a model can still
memorise the utterances it was trained on.
"""

from dataclasses import dataclass
from typing import Dict, List, Tuple

import numpy as np
from scipy.signal import lfilter

SAMPLE_RATE = 16000
EMOTIONS = ("angry", "happy", "neutral", "sad")

# Emotion -> (pitch factor, pitch range factor, gain in dB, rate factor,
# spectral tilt shift in dB/octave, breathiness shift).
EMOTION_PROSODY: Dict[str, Tuple[float, float, float, float, float, float]] = {
    "neutral": (1.00, 1.00, 0.0, 1.00, 0.0, 0.00),
    "happy": (1.14, 1.60, 2.5, 1.10, 1.2, -0.02),
    "angry": (1.08, 1.25, 5.0, 1.12, 2.5, 0.02),
    "sad": (0.91, 0.60, -3.5, 0.84, -1.8, 0.06),
}

# Formants (Hz) of a few vowels for an average adult vocal tract.
VOWELS = (
    (730, 1090, 2440),
    (530, 1840, 2480),
    (270, 2290, 3010),
    (570, 840, 2410),
    (300, 870, 2240),
    (660, 1720, 2410),
    (440, 1020, 2240),
)


@dataclass(frozen=True)
class Speaker:
    name: str
    gender: str
    f0: float  # Hz, neutral pitch level
    f0_range: float  # semitones of pitch movement in neutral speech
    tract: float  # formant scale (shorter tract -> higher formants)
    tilt: float  # dB per octave, added to the source's own roll-off
    breath: float  # share of aspiration noise in the voice
    rate: float  # syllables per second in neutral speech
    expressiveness: float  # how far emotion moves this speaker's prosody


@dataclass(frozen=True)
class Utterance:
    utt_id: str
    speaker: str
    emotion: str
    seed: int


def make_speakers(num_speakers: int, seed: int) -> List[Speaker]:
    rng = np.random.default_rng([seed, 1])
    speakers = []
    for i in range(num_speakers):
        female = i % 2 == 0
        speakers.append(
            Speaker(
                name=f"spk{i + 1:02d}",
                gender="f" if female else "m",
                f0=float(rng.uniform(170, 245) if female else rng.uniform(92, 140)),
                f0_range=float(rng.uniform(2.0, 4.5)),
                tract=float(rng.uniform(1.05, 1.2) if female else rng.uniform(0.86, 1.0)),
                tilt=float(rng.uniform(-3.0, 1.5)),
                breath=float(rng.uniform(0.02, 0.12)),
                rate=float(rng.uniform(3.6, 5.4)),
                expressiveness=float(rng.uniform(0.6, 1.3)),
            )
        )
    return speakers


def _resonator(x: np.ndarray, freq: float, bandwidth: float) -> np.ndarray:
    """Second-order resonance with unit gain at its centre frequency."""
    r = np.exp(-np.pi * bandwidth / SAMPLE_RATE)
    theta = 2 * np.pi * freq / SAMPLE_RATE
    a = [1.0, -2 * r * np.cos(theta), r * r]
    gain = (1 - r) * np.sqrt(1 - 2 * r * np.cos(2 * theta) + r * r)
    return lfilter([gain], a, x)


def _tilt_filter(x: np.ndarray, db_per_octave: float) -> np.ndarray:
    """One-pole shelf: positive values brighten, negative values darken."""
    c = float(np.clip(db_per_octave / 8.0, -0.9, 0.9))
    if c >= 0:
        return lfilter([1.0, -c], [1.0], x)
    return lfilter([1.0 + c], [1.0, c], x)


def synthesize(speaker: Speaker, emotion: str, seed: int) -> np.ndarray:
    """One utterance as float32 samples in [-1, 1] at SAMPLE_RATE."""
    rng = np.random.default_rng(seed)
    pitch, prange, gain_db, rate, tilt, breath = EMOTION_PROSODY[emotion]
    e = speaker.expressiveness * rng.uniform(0.7, 1.3)

    def towards(value: float, neutral: float, noise: float) -> float:
        return neutral + (value - neutral) * e + rng.normal(0, noise)

    f0 = speaker.f0 * towards(pitch, 1.0, 0.06)
    semitones = speaker.f0_range * max(0.2, towards(prange, 1.0, 0.25))
    syl_rate = speaker.rate * max(0.5, towards(rate, 1.0, 0.08))
    level_db = towards(gain_db, 0.0, 2.5) + rng.normal(0, 2.0)  # + recording level
    tilt_db = speaker.tilt + towards(tilt, 0.0, 0.8)
    breathiness = float(np.clip(speaker.breath + towards(breath, 0.0, 0.02), 0.0, 0.4))

    num_syllables = int(rng.integers(6, 13))
    pieces = [np.zeros(int(rng.uniform(0.08, 0.2) * SAMPLE_RATE))]
    phase = 0.0
    for k in range(num_syllables):
        dur = rng.uniform(0.6, 1.4) / syl_rate
        n_cons = int(rng.uniform(0.15, 0.3) * dur * SAMPLE_RATE)
        n_vow = int(dur * SAMPLE_RATE) - n_cons
        # Consonant: band-passed noise burst.
        cons = _resonator(rng.normal(0, 1, n_cons), rng.uniform(2500, 6500), 1500)
        cons *= np.hanning(n_cons) * rng.uniform(0.05, 0.25)
        # Vowel: glottal source along a pitch contour with declination and an accent.
        t = np.arange(n_vow) / SAMPLE_RATE
        progress = (k + t / max(t[-1], 1e-3)) / num_syllables
        accent = np.sin(np.pi * t / t[-1]) * rng.uniform(-0.3, 1.0)
        contour = semitones * (accent - 0.8 * progress) + rng.normal(0, 0.15, n_vow).cumsum() * 0.02
        f0_track = f0 * 2.0 ** (contour / 12.0)
        phases = phase + np.cumsum(f0_track) / SAMPLE_RATE
        phase = phases[-1] % 1.0
        frac = phases % 1.0
        source = np.where(frac < 0.6, np.sin(np.pi * frac / 0.6) ** 2, 0.0)
        source = np.diff(source, prepend=source[0]) * 20.0
        source = (1 - breathiness) * source + breathiness * rng.normal(0, 1, n_vow)
        formants = np.array(VOWELS[int(rng.integers(len(VOWELS)))]) * speaker.tract
        formants *= rng.uniform(0.94, 1.06, 3)
        vowel = sum(
            w * _resonator(source, f, bw)
            for f, bw, w in zip(formants, (80, 110, 150), (1.0, 0.6, 0.35))
        )
        env = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.025) * rng.uniform(0.6, 1.0)
        pieces += [cons, vowel * env]
        if rng.random() < 0.15:
            pieces.append(np.zeros(int(rng.uniform(0.05, 0.25) * SAMPLE_RATE)))
    pieces.append(np.zeros(int(rng.uniform(0.08, 0.2) * SAMPLE_RATE)))
    x = _tilt_filter(np.concatenate(pieces), tilt_db)
    x = x / (np.sqrt(np.mean(x**2)) + 1e-9) * 0.05 * 10 ** (level_db / 20)
    x = x + rng.normal(0, 10 ** (-rng.uniform(35, 50) / 20) * 0.05, len(x))
    return np.clip(x, -0.99, 0.99).astype(np.float32)


def speaker_split(num_speakers: int, num_valid: int, num_test: int) -> Dict[str, str]:
    """Speaker -> split; valid and test take the last speakers, so every split
    has both genders when the counts are even."""
    names = [f"spk{i + 1:02d}" for i in range(num_speakers)]
    n_train = num_speakers - num_valid - num_test
    if n_train < 1 or num_valid < 1 or num_test < 1:
        raise ValueError(
            f"{num_speakers} speakers cannot be split into {num_valid} valid, "
            f"{num_test} test and at least one training speaker"
        )
    split = {n: "train" for n in names[:n_train]}
    split.update({n: "valid" for n in names[n_train : n_train + num_valid]})
    split.update({n: "test" for n in names[n_train + num_valid :]})
    return split


def plan_corpus(num_speakers: int, utts_per_emotion, seed: int) -> List[Utterance]:
    """Utterances of every speaker; utts_per_emotion is one count for all
    speakers or a function of the speaker name (evaluation speakers may
    record more than training speakers).  An utterance's audio depends only on
    its speaker, emotion, index and the seed, so a larger corpus extends a
    smaller one."""
    per_spk = utts_per_emotion if callable(utts_per_emotion) else (lambda _spk: utts_per_emotion)
    utts = []
    for s in range(num_speakers):
        spk = f"spk{s + 1:02d}"
        for e, emotion in enumerate(EMOTIONS):
            for i in range(per_spk(spk)):
                utts.append(
                    Utterance(f"{spk}_{emotion}_{i + 1:03d}", spk, emotion, seed * 1000003 + (s * 16 + e) * 4096 + i)
                )
    return utts
