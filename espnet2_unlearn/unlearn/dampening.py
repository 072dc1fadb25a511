"""Selective dampening (after SSD, Foster et al., 2023): shrink the weights
that matter far more to the forget set than to the training data as a whole.

Importance is the diagonal of the Fisher information, the mean over
utterances of the squared gradient of the cross-entropy on the true label.
The training data's is computed once, when the model is trained (stage 4,
`espnet2_unlearn.bin.train_importance`), and stored beside the model as
numbers, like reference_stats.json: unlearning reads no training data.  The
forget set's is computed at unlearning time.  A weight whose forget
importance exceeds alpha times its training importance is multiplied by
min(strength * train / forget, 1); all other weights are left exactly as
they are.  Random relabeling moves every weight; dampening touches only the
weights that single out the forget set."""

from pathlib import Path
from typing import Dict, List

import torch
import torch.nn.functional as F

from espnet2_unlearn.model_calls import logits_of, pad

IMPORTANCE_FILE = "train_importance.pth"


def fisher_diagonal(model, speech: List[torch.Tensor], labels: torch.Tensor) -> Dict[str, torch.Tensor]:
    """Per trainable parameter, the mean over utterances of the squared
    gradient of CE(f(x), y), one utterance at a time, in eval mode."""
    was_training = model.training
    model.eval()
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    total = {n: torch.zeros_like(p) for n, p in params.items()}
    for x, y in zip(speech, labels):
        grads = torch.autograd.grad(F.cross_entropy(logits_of(model, *pad([x])), y.view(1)),
                                    list(params.values()), allow_unused=True)
        for n, g in zip(params, grads):
            if g is not None:
                total[n] += g.detach() ** 2
    model.train(was_training)
    return {n: t / max(len(speech), 1) for n, t in total.items()}


@torch.no_grad()
def dampen(model, forget_importance: Dict[str, torch.Tensor], train_importance: Dict[str, torch.Tensor],
           alpha: float, strength: float) -> int:
    """Shrinks, in place, the weights with forget importance above alpha
    times their training importance; returns how many were shrunk."""
    count = 0
    for name, p in model.named_parameters():
        if name not in forget_importance or name not in train_importance:
            continue
        f, d = forget_importance[name], train_importance[name].to(p)
        selected = f > alpha * d
        factor = torch.clamp(strength * d / f.clamp_min(1e-30), max=1.0)
        p.mul_(torch.where(selected, factor, torch.ones_like(factor)))
        count += int(selected.sum())
    return count


def save_importance(importance: Dict[str, torch.Tensor], path: Path, record: Dict) -> None:
    """The importance and a record of where it came from (model, data), written
    to a temporary name and renamed."""
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save({"importance": {n: t.cpu() for n, t in importance.items()}, "record": record}, tmp)
    tmp.rename(path)


def load_importance(path: Path) -> Dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu")["importance"]
