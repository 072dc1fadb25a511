"""Reading the audio that a wav.scp line points to."""

import io
import subprocess

import numpy as np
import soundfile


class AudioError(ValueError):
    """Audio that cannot be used; the message names the utterance."""


def read_audio(utt: str, location: str, expected_rate: int) -> np.ndarray:
    """Mono float32 samples of one wav.scp entry: a file name, or a command
    ending in '|' whose output is a wav file (as Kaldi allows)."""
    try:
        if location.endswith("|"):
            proc = subprocess.run(location[:-1], shell=True, capture_output=True)
            if proc.returncode != 0:
                msg = proc.stderr.decode(errors="replace").strip()
                raise AudioError(f"utterance {utt}: command '{location}' failed: {msg}")
            audio, rate = soundfile.read(io.BytesIO(proc.stdout), dtype="float32")
        else:
            audio, rate = soundfile.read(location, dtype="float32")
    except AudioError:
        raise
    except Exception as e:  # soundfile raises several types for bad files
        raise AudioError(f"utterance {utt}: cannot read audio '{location}': {e}") from e
    if rate != expected_rate:
        raise AudioError(
            f"utterance {utt}: '{location}' is sampled at {rate} Hz, expected {expected_rate} Hz "
            "(resample it in wav.scp, e.g. 'sox IN -r 16000 -t wav - |')"
        )
    if audio.ndim == 2:
        if audio.shape[1] != 1:
            raise AudioError(f"utterance {utt}: '{location}' has {audio.shape[1]} channels, expected 1")
        audio = audio[:, 0]
    if audio.size == 0:
        raise AudioError(f"utterance {utt}: '{location}' holds no samples")
    return audio
