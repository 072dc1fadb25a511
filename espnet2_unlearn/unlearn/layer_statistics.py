"""Per-layer statistics of the data a model was trained on, recorded once
when it is trained (stage 4, `bin/train_statistics.py`) and stored beside it
as numbers, like reference_stats.json: unlearning reads no training data.

For every Linear and Conv1d layer:

- `inputs`: the Gram matrix sum_t a_t a_t^T of the layer's inputs, each
  augmented with a 1 for the bias (frames of encoder layers, unfolded
  patches of convolutions, the pooled vector of the decoder);
- `output_grads`: sum_t g_t g_t^T of the loss gradient at the layer's
  output, with each utterance's label drawn from the model's own
  prediction (the Fisher's K-FAC factor, not the empirical one);
- `frames`: how many rows went into them; `utts` for the whole file.

Sums, in float64, so that the forget set's own contribution can be
subtracted exactly (`downdate`): the remaining data's statistics are the
training data's less the forget set's, without reading the remaining data.
"""

import zlib
from typing import Dict, List, Tuple

import torch
import torch.nn.functional as F

from espnet2_unlearn.model_calls import logits_of, pad

STATISTICS_FILE = "train_statistics.pth"
KINDS = (torch.nn.Linear, torch.nn.Conv1d)


class StatisticsError(ValueError):
    """Statistics that do not belong to the model, or are missing."""


def layers(model) -> Dict[str, torch.nn.Module]:
    """The layers statistics are kept for: every Linear and Conv1d."""
    out = {}
    for name, m in model.named_modules():
        if isinstance(m, KINDS):
            if isinstance(m, torch.nn.Conv1d) and (m.dilation != (1,) or m.groups != 1):
                raise StatisticsError(f"layer {name}: dilated or grouped convolutions are not supported")
            out[name] = m
    return out


def input_rows(module, x: torch.Tensor) -> torch.Tensor:
    """(rows, in_features [+1]) inputs of the layer as its weight sees them:
    frames for Linear, unfolded patches (channel-major, as weight.view(out,
    -1)) for Conv1d; a column of ones when the layer has a bias."""
    if isinstance(module, torch.nn.Conv1d):
        if module.padding != (0,):
            x = F.pad(x, (module.padding[0], module.padding[0]))
        k, s = module.kernel_size[0], module.stride[0]
        rows = x.unfold(2, k, s).permute(0, 2, 1, 3).reshape(-1, x.shape[1] * k)
    else:
        rows = x.reshape(-1, x.shape[-1])
    if module.bias is not None:
        rows = torch.cat([rows, torch.ones(rows.shape[0], 1, dtype=rows.dtype, device=rows.device)], 1)
    return rows


def output_rows(module, g: torch.Tensor) -> torch.Tensor:
    """(rows, out_features) output gradients, in the order of input_rows."""
    if isinstance(module, torch.nn.Conv1d):
        return g.transpose(1, 2).reshape(-1, g.shape[1])
    return g.reshape(-1, g.shape[-1])


def empty(model) -> Dict:
    stats = {}
    for name, m in layers(model).items():
        d_in = m.weight[0].numel() + (m.bias is not None)
        d_out = m.weight.shape[0]
        stats[name] = {"inputs": torch.zeros(d_in, d_in, dtype=torch.float64),
                       "output_grads": torch.zeros(d_out, d_out, dtype=torch.float64), "frames": 0}
    return {"layers": stats, "utts": 0}


def label_generator(utt: str, seed: int) -> torch.Generator:
    """The draw of an utterance's label depends on the utterance alone, so
    that its contribution can be subtracted exactly later."""
    return torch.Generator().manual_seed(seed * 4294967296 + zlib.crc32(utt.encode("utf-8")))


def accumulate(model, speech: List[torch.Tensor], utts: List[str], seed: int, stats: Dict = None,
               sign: int = 1) -> Dict:
    """Adds (sign 1) or subtracts (sign -1) the statistics of the utterances,
    one at a time (no padding), in eval mode; returns the statistics."""
    stats = stats if stats is not None else empty(model)
    mods = layers(model)
    captured: Dict[str, Tuple[torch.Tensor, torch.Tensor]] = {}

    def hook(name):
        def fn(module, inputs, output):
            output.retain_grad()
            captured[name] = (inputs[0].detach(), output)
        return fn
    handles = [m.register_forward_hook(hook(n)) for n, m in mods.items()]
    was_training = model.training
    model.eval()
    try:
        for x, utt in zip(speech, utts):
            captured.clear()
            logits = logits_of(model, *pad([x]))
            with torch.no_grad():
                y = torch.multinomial(logits.softmax(-1).double(), 1, generator=label_generator(utt, seed)).view(-1)
            model.zero_grad(set_to_none=True)
            F.cross_entropy(logits, y).backward()
            for name, (a, out) in captured.items():
                s, m = stats["layers"][name], mods[name]
                rows = input_rows(m, a).double()
                s["inputs"] += sign * rows.T @ rows
                if out.grad is not None:
                    g = output_rows(m, out.grad).double()
                    s["output_grads"] += sign * g.T @ g
                s["frames"] += sign * rows.shape[0]
            stats["utts"] += sign
    finally:
        for h in handles:
            h.remove()
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    return stats


def check_against(stats: Dict, model, path) -> None:
    """Refuses statistics whose layers or shapes are not the model's, naming the layer."""
    expected = empty(model)["layers"]
    for name, s in expected.items():
        if name not in stats["layers"]:
            raise StatisticsError(f"{path} has no statistics for layer {name} of the model")
        got = stats["layers"][name]
        for key in ("inputs", "output_grads"):
            if tuple(got[key].shape) != tuple(s[key].shape):
                raise StatisticsError(f"{path}: layer {name} {key} is {tuple(got[key].shape)}, the model's "
                                      f"layer needs {tuple(s[key].shape)}")
    extra = sorted(set(stats["layers"]) - set(expected))
    if extra:
        raise StatisticsError(f"{path} has statistics for layer {extra[0]}, which the model does not have")


def save(stats: Dict, path, record: Dict) -> None:
    """Written to a temporary name and renamed; `record` says where they came from."""
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save({"layers": stats["layers"], "utts": stats["utts"], "record": record}, tmp)
    tmp.rename(path)


def load(path) -> Dict:
    return torch.load(path, map_location="cpu")
