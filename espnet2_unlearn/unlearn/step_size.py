"""A step size that grows while the forget set stops moving.  The learning
rate that reaches the target in a few steps on one model can stall on
another (trained with other settings, other features, another corpus): the
forget set's accuracy then sits above the target until --max_steps.  So
when the stopping metric has not improved for `patience` steps, every
learning rate (and a scheduler's base rates) is multiplied by `growth`;
the stopping rule still ends the run at the first step that reaches the
target, so growth only costs where the run would otherwise have failed."""

import logging
from typing import List


class StepGrowth:
    def __init__(self, optimizer, scheduler, metric: str, growth: float, patience: int):
        self.optimizer, self.scheduler = optimizer, scheduler
        self.metric, self.growth, self.patience = metric, growth, patience
        self.best = None
        self.since = 0
        self.grown_at: List[int] = []  # the steps after which the rates grew

    def progress(self, accuracy: float, median_loss: float) -> float:
        """Larger is further towards the target."""
        return -accuracy if self.metric == "acc" else median_loss

    def after_step(self, step: int, accuracy: float, median_loss: float) -> None:
        value = self.progress(accuracy, median_loss)
        if self.best is None or value > self.best + 1e-9:
            self.best, self.since = value, 0
            return
        self.since += 1
        if self.growth <= 1 or self.since < self.patience:
            return
        for group in self.optimizer.param_groups:
            group["lr"] *= self.growth
        if self.scheduler is not None and hasattr(self.scheduler, "base_lrs"):
            self.scheduler.base_lrs = [lr * self.growth for lr in self.scheduler.base_lrs]
        self.since = 0
        self.grown_at.append(step)
        logging.info(f"step {step}: no progress for {self.patience} steps: learning rate x{self.growth:g} "
                     f"(now {self.optimizer.param_groups[0]['lr']:.3g})")
