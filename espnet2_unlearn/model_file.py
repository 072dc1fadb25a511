"""Loading a trained ESPnet classification model, strictly.  ESPnet's own
build_model_from_file loads a state dict with strict=False, so a file of the
wrong kind (a training checkpoint.pth, a model of another config) leaves the
model at its random initialisation without a word; unlearning such a model
would publish an untrained model as the unlearned one."""

from pathlib import Path
from typing import List, Sequence, Tuple

import torch
import yaml
from espnet2_unlearn.espnet_imports import CLSTask


class ModelFileError(ValueError):
    """A model file that is not the state dict of the model its config builds."""


def _listed(keys, limit: int = 5) -> str:
    keys = sorted(keys)
    return ", ".join(keys[:limit]) + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def load_model(config_file, model_file, device: str = "cpu") -> Tuple[torch.nn.Module, object]:
    """(model, its training args) with every parameter and buffer from
    model_file; a ModelFileError names the file and the keys that differ."""
    model_file = Path(model_file)
    try:
        state = torch.load(model_file, map_location=device, weights_only=False)
    except Exception as e:  # a truncated file, not a PyTorch file at all
        raise ModelFileError(f"model file {model_file} cannot be read ({type(e).__name__}: {e})") from e
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        hint = ""
        if isinstance(state, dict) and "model" in state and "optimizers" in state:
            hint = (" (it is a training checkpoint, as ESPnet's checkpoint.pth is: use a model file such as "
                    "valid.acc.best.pth or train.loss.ave.pth)")
        raise ModelFileError(f"model file {model_file} is not a state dict of tensors{hint}")
    try:
        model, args = CLSTask.build_model_from_file(str(config_file), None, device)
    except yaml.YAMLError as e:
        raise ModelFileError(f"config {config_file} is not valid YAML: {e}") from e
    expected = set(model.state_dict())
    missing, unexpected = expected - set(state), set(state) - expected
    if missing or unexpected:
        parts = ([f"missing {len(missing)} keys ({_listed(missing)})"] if missing else []) + \
                ([f"unexpected {len(unexpected)} keys ({_listed(unexpected)})"] if unexpected else [])
        raise ModelFileError(f"model file {model_file} does not fit the model of {config_file}: "
                             + "; ".join(parts))
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:  # same keys, other shapes
        raise ModelFileError(f"model file {model_file} does not fit the model of {config_file}: {e}") from e
    return model, args


@torch.no_grad()
def predicted_tokens(model_dir: Path, model_file: str, speech: Sequence[torch.Tensor]) -> List[str]:
    """The token the model in model_dir (its config.yaml, model_file) predicts
    for each input, in eval mode, in padded batches (model_calls.batched_logits)."""
    from espnet2_unlearn.model_calls import batched_logits

    model, args = load_model(Path(model_dir) / "config.yaml", Path(model_dir) / model_file)
    model.eval()
    return [args.token_list[i] for i in batched_logits(model, speech).argmax(-1).tolist()]
