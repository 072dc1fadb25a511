"""Update transforms, chosen by --update_transform (UPDATE_TRANSFORMS): what
is done to every optimiser step once it is taken, `apply(model, before)`
(before: the parameters before the step).  `projection` reads the training
statistics beside the source model, less the forget set's own."""

import copy
import logging
from pathlib import Path
from typing import Dict, Optional

import torch

from espnet2_unlearn.unlearn import layer_statistics
from espnet2_unlearn.unlearn.forget_set import ForgetSet
from espnet2_unlearn.unlearn.inputs import UnlearnError
from espnet2_unlearn.unlearn.projection import ProjectedUpdate, protected_bases


def remaining_statistics(original, forget: ForgetSet, model_dir: Path) -> Dict:
    """The training statistics beside the source model less the forget set's
    contribution, computed with the source model (layer_statistics.py)."""
    path = Path(model_dir) / layer_statistics.STATISTICS_FILE
    stats = layer_statistics.load(path)
    try:
        layer_statistics.check_against(stats, original, path)
    except layer_statistics.StatisticsError as e:
        raise UnlearnError(str(e)) from e
    seed = stats.get("record", {}).get("seed", 0)
    with torch.enable_grad():
        layer_statistics.accumulate(copy.deepcopy(original).requires_grad_(True), forget.speech, forget.utts, seed,
                                    stats=stats, sign=-1)
    if stats["utts"] < 1:
        raise UnlearnError(f"{path} holds {stats['utts'] + len(forget)} utterances: nothing would remain")
    return stats


def projection(b) -> ProjectedUpdate:
    with b.phases("statistics"):
        statistics = remaining_statistics(b.original, b.forget, b.model_dir)
    transform = ProjectedUpdate(b.model, protected_bases(statistics, b.opts.projection_energy), statistics,
                                b.opts.projection_energy, b.opts.projection_relax_factor)
    logging.info("projection: protected dimensions per layer " + ", ".join(
        f"{n} {k}/{d}" for n, (k, d) in transform.dims().items()))
    return transform


def no_transform(b) -> Optional[ProjectedUpdate]:
    return None


UPDATE_TRANSFORMS = {"projection": projection, "none": no_transform}
