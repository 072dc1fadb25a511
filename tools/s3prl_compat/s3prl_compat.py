"""s3prl 0.4.18 (the newest release) does not import with torchaudio 2.9 or
later: its hub imports every upstream, and two of them call what torchaudio
removed (torchaudio.set_audio_backend, torchaudio.sox_effects; s3prl issue
575).  Neither is used by the upstreams a front-end loads from a local path
(hf_wav2vec2_custom, hf_hubert_custom, wavlm_local, ...), so this puts back
a no-op set_audio_backend and a sox_effects whose functions say they are
gone.  Put this directory on PYTHONPATH (its sitecustomize.py applies it in
every process) to train or unlearn a model with ESPnet's s3prl front-end."""

import importlib
import sys
import types

import torchaudio


def _removed(*args, **kwargs):
    raise RuntimeError("torchaudio.sox_effects was removed in torchaudio 2.9")


def apply():
    if not hasattr(torchaudio, "set_audio_backend"):
        torchaudio.set_audio_backend = lambda backend: None
    try:
        importlib.import_module("torchaudio.sox_effects")
    except ImportError:
        module = types.ModuleType("torchaudio.sox_effects")
        module.apply_effects_tensor = module.apply_effects_file = _removed
        sys.modules["torchaudio.sox_effects"] = module
        torchaudio.sox_effects = module


apply()
