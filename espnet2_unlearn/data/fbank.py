"""Kaldi-compatible log-mel filterbank features (torchaudio.compliance.kaldi)."""

import inspect
from typing import Dict

import numpy as np
import torch
from torchaudio.compliance import kaldi


def _fbank_defaults() -> Dict[str, object]:
    sig = inspect.signature(kaldi.fbank)
    return {k: p.default for k, p in sig.parameters.items() if k != "waveform"}


def read_fbank_conf(path) -> Dict[str, object]:
    """Options from a Kaldi-style conf file (`--num-mel-bins=80` lines) as
    keyword arguments of torchaudio's kaldi.fbank, typed like its defaults."""
    defaults = _fbank_defaults()
    opts: Dict[str, object] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if not line.startswith("--") or "=" not in line:
                raise ValueError(f"{path}:{lineno}: expected '--name=value', got '{line}'")
            name, value = line[2:].split("=", 1)
            name = name.replace("-", "_")
            if name not in defaults:
                raise ValueError(f"{path}:{lineno}: unknown fbank option --{name.replace('_', '-')}")
            default = defaults[name]
            if isinstance(default, bool):
                if value not in ("true", "false"):
                    raise ValueError(f"{path}:{lineno}: --{name} takes true or false, got '{value}'")
                opts[name] = value == "true"
            elif isinstance(default, (int, float)):
                opts[name] = type(default)(value)
            else:
                opts[name] = value
    return opts


def compute_fbank(audio: np.ndarray, opts: Dict[str, object]) -> np.ndarray:
    """(frames, num_mel_bins) float32 features of float samples in [-1, 1].

    Kaldi works on 16-bit sample values, so the samples are scaled to that
    range first; the features then match Kaldi's compute-fbank-feats.
    """
    rate = float(opts.get("sample_frequency", 16000.0))
    frame = int(rate * float(opts.get("frame_length", 25.0)) / 1000)
    if len(audio) < frame:  # torchaudio would fail with a bare assertion
        raise ValueError(f"{len(audio)} samples is shorter than one frame ({frame} samples at {rate:g} Hz)")
    wave = torch.from_numpy(np.asarray(audio, dtype=np.float32) * 32768.0).unsqueeze(0)
    return kaldi.fbank(wave, **opts).numpy()
