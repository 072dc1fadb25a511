import torch

from espnet2_unlearn.unlearn.step_size import StepGrowth


def optimiser(lr=1e-3):
    return torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))], lr=lr)


def test_the_rate_grows_only_after_patience_steps_without_progress():
    opt = optimiser()
    growth = StepGrowth(opt, None, "acc", 2.0, patience=3)
    for step, acc in enumerate([0.9, 0.8, 0.8, 0.8], start=1):  # progress, then 2 steps without
        growth.after_step(step, acc, 0.0)
    assert opt.param_groups[0]["lr"] == 1e-3 and growth.grown_at == []
    growth.after_step(5, 0.8, 0.0)  # the third without
    assert opt.param_groups[0]["lr"] == 2e-3 and growth.grown_at == [5]
    for step in (6, 7):
        growth.after_step(step, 0.8, 0.0)
    growth.after_step(8, 0.7, 0.0)  # progress resets the count
    for step in (9, 10):
        growth.after_step(step, 0.7, 0.0)
    assert growth.grown_at == [5]


def test_loss_metric_progress_is_a_rising_loss_and_growth_1_never_grows():
    opt = optimiser()
    growth = StepGrowth(opt, None, "loss", 1.0, patience=1)
    for step, loss in enumerate([1.0, 0.9, 0.8], start=1):
        growth.after_step(step, 0.5, loss)
    assert growth.grown_at == [] and opt.param_groups[0]["lr"] == 1e-3
    growth = StepGrowth(opt, None, "loss", 3.0, patience=1)
    growth.after_step(1, 0.5, 1.0)
    growth.after_step(2, 0.5, 2.0)  # rising: progress
    assert growth.grown_at == []
    growth.after_step(3, 0.5, 1.5)
    assert growth.grown_at == [3] and abs(opt.param_groups[0]["lr"] - 3e-3) < 1e-12


def test_a_schedulers_base_rates_grow_too():
    opt = optimiser()
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 0.5)
    growth = StepGrowth(opt, sched, "acc", 2.0, patience=1)
    growth.after_step(1, 0.9, 0.0)
    growth.after_step(2, 0.9, 0.0)
    sched.step()  # the scheduler sets the rate from its base rates: the growth stays
    assert abs(opt.param_groups[0]["lr"] - 2e-3 * 0.5) < 1e-12


class Relaxer:
    def __init__(self, times):
        self.left = times

    def relax(self):
        if not self.left:
            return None
        self.left -= 1
        return "relaxed"


def test_the_rate_stops_growing_at_max_factor_and_then_transforms_relax():
    opt = optimiser()
    relaxer = Relaxer(1)
    growth = StepGrowth(opt, None, "acc", 2.0, patience=1, max_factor=4.0, relaxers=[relaxer, object()],
                        relax_patience=3)
    growth.after_step(1, 0.9, 0.0)
    rates = {}
    for step in range(2, 14):
        growth.after_step(step, 0.9, 0.0)
        rates[step] = opt.param_groups[0]["lr"]
    assert abs(rates[5] - 4e-3) < 1e-12  # x4, no more
    # then, after 3 more still steps, the projection, once, at the same rate; then nothing is left to relax
    assert growth.relaxed_at == [6] and relaxer.left == 0 and abs(rates[6] - 4e-3) < 1e-12
    assert growth.grown_at == [2, 3] and abs(rates[13] - 4e-3) < 1e-12


def test_a_wandering_accuracy_at_the_largest_rate_never_relaxes():
    # On the built-in corpus the forget accuracy goes up and down at the largest rate: the projection stays.
    opt = optimiser()
    relaxer = Relaxer(3)
    growth = StepGrowth(opt, None, "acc", 2.0, patience=1, max_factor=4.0, relaxers=[relaxer], relax_patience=3)
    for step, acc in enumerate([0.9, 0.9, 0.9] + [0.95, 0.92] * 20, 1):
        growth.after_step(step, acc, 0.0)
    assert growth.grown_at == [2, 3] and growth.relaxed_at == [] and relaxer.left == 3


def test_under_the_distribution_rule_the_distance_is_the_progress_and_its_stall_relaxes():
    """The forget accuracy wanders, the KS distance finds no new low: the
    rate grows on the distance, and at the largest rate the projection
    protects less after relax_patience steps without a new low."""
    opt = optimiser()
    relaxer = Relaxer(1)
    growth = StepGrowth(opt, None, "distribution", 2.0, patience=2, max_factor=2.0, relaxers=[relaxer],
                        relax_patience=3)
    growth.after_step(1, 0.9, 0.0, 0.40)
    growth.after_step(2, 0.8, 0.0, 0.30)  # a new low: progress
    assert growth.grown_at == []
    for step, acc, distance in [(3, 0.9, 0.35), (4, 0.7, 0.31)]:  # accuracy moves, the distance does not
        growth.after_step(step, acc, 0.0, distance)
    assert growth.grown_at == [4] and abs(opt.param_groups[0]["lr"] - 2e-3) < 1e-12
    for step, acc, distance in [(5, 0.8, 0.33), (6, 0.9, 0.32), (7, 0.7, 0.34)]:
        growth.after_step(step, acc, 0.0, distance)
    assert growth.relaxed_at == [7] and relaxer.left == 0


def test_a_relaxation_can_restart_the_rate_where_it_began():
    opt = optimiser()
    relaxer = Relaxer(2)
    growth = StepGrowth(opt, None, "distribution", 2.0, patience=1, max_factor=4.0, relaxers=[relaxer],
                        relax_patience=2, relax_restart=True)
    growth.after_step(1, 0.9, 0.0, 0.40)
    for step in range(2, 6):  # no new low: x2 at steps 2 and 3, then 2 still steps at x4 relax
        growth.after_step(step, 0.9, 0.0, 0.41)
    assert growth.grown_at == [2, 3] and growth.relaxed_at == [5]
    assert abs(opt.param_groups[0]["lr"] - 1e-3) < 1e-12 and growth.factor == 1.0
    growth.after_step(6, 0.9, 0.0, 0.41)  # and it may grow again from there
    assert growth.grown_at == [2, 3, 6] and abs(opt.param_groups[0]["lr"] - 2e-3) < 1e-12


def test_with_no_progress_as_the_stall_a_wobbling_accuracy_relaxes():
    """The accuracy that wobbles by one utterance without a new best (a batch
    of the pending utterances) relaxes under no_progress, not under unchanged."""
    relaxed = {}
    for when in ("unchanged", "no_progress"):
        opt = optimiser()
        growth = StepGrowth(opt, None, "acc", 2.0, patience=1, max_factor=4.0, relaxers=[Relaxer(1)],
                            relax_patience=3, relax_when=when)
        for step, acc in enumerate([0.8, 0.8, 0.8, 0.82, 0.8, 0.82, 0.8, 0.82], 1):
            growth.after_step(step, acc, 0.0)
        relaxed[when] = growth.relaxed_at
    assert relaxed == {"unchanged": [], "no_progress": [6]}  # grown after steps 2 and 3, then 3 steps without a new best
