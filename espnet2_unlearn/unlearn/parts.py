"""The parts of an unlearning run, each chosen by name as ESPnet's class
choices are: the forget objective (--forget_loss, objectives.py), the
retention terms (retention.py, each off at a weight of 0) and the update
transforms (--update_transform, update_transforms.py; elastic_mode update
adds one).  The stop rule (stopping.py) is the fourth; the runner's loop
knows the parts only by these interfaces."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from espnet2_unlearn.unlearn.forget_set import ForgetSet
from espnet2_unlearn.unlearn.objectives import FORGET_OBJECTIVES
from espnet2_unlearn.unlearn.phases import Phases
from espnet2_unlearn.unlearn.retention import RETENTION_TERMS
from espnet2_unlearn.unlearn.update_transforms import UPDATE_TRANSFORMS


@dataclass
class PartInputs:
    """What the parts are built from."""
    opts: object  # UnlearnOptions
    model: object  # the model to update (its trainable parameters)
    original: object  # a frozen copy of the source model
    forget: ForgetSet
    classes: Sequence[int]  # the outputs that are labels (inputs.label_classes), the only targets
    phases: Phases
    target: Optional[float] = None  # the stop rule's target
    model_dir: Optional[Path] = None  # the source model's directory (its statistics and reference figures)
    loss_reference: object = None  # stopping.LossReference: the held-out losses


@dataclass
class Parts:
    objective: Optional[object] = None  # None: no forget term
    terms: List = field(default_factory=list)  # retention terms, in RETENTION_TERMS' order
    transforms: List = field(default_factory=list)  # applied to every optimiser step, in this order

    def term(self, name: str):
        return next((t for t in self.terms if t.name == name), None)

    @property
    def adversarial_set(self):
        adv = self.term("adv")
        return None if adv is None else adv.adv

    @property
    def statistics(self) -> Optional[Dict]:
        """The training statistics less the forget set's, where a transform read them."""
        return next((t.stats for t in self.transforms if getattr(t, "stats", None) is not None), None)


def build_parts(opts, model, original, forget: ForgetSet, classes: Sequence[int], phases: Optional[Phases] = None,
                target: Optional[float] = None, model_dir: Optional[Path] = None, loss_reference=None) -> Parts:
    """Every part the options name, each built once before the first update."""
    b = PartInputs(opts, model, original, forget, classes, phases or Phases(), target, model_dir, loss_reference)
    objective = FORGET_OBJECTIVES[opts.forget_loss](b)
    transform = UPDATE_TRANSFORMS[opts.update_transform](b)
    terms = [t for t in (build(b) for build in RETENTION_TERMS.values()) if t is not None]
    transforms = [t for t in [transform] + [term.update_transform for term in terms] if t is not None]
    return Parts(objective, terms, transforms)
