"""Projected updates: outputs on the protected inputs stay put, others move."""

import torch

from espnet2_unlearn.unlearn.projection import ProjectedUpdate, protected_bases


class TwoLayers(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(6, 4)
        self.norm = torch.nn.LayerNorm(4)


def test_steps_leave_protected_outputs_and_move_the_others():
    torch.manual_seed(0)
    model = TwoLayers()
    # remaining data: inputs in a 3-dimensional subspace (with the constant 1 for the bias)
    basis = torch.linalg.qr(torch.randn(6, 3))[0]
    kept = torch.randn(200, 3) @ basis.T
    rows = torch.cat([kept, torch.ones(200, 1)], 1).double()
    stats = {"layers": {"lin": {"inputs": rows.T @ rows}}}
    bases = protected_bases(stats, energy=1.0)
    assert bases["lin"].shape == (7, 4)  # 3 directions and the constant
    forget = torch.randn(20, 6)  # outside the subspace
    transform = ProjectedUpdate(model, bases)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    out_kept, out_forget = model.lin(kept).detach(), model.lin(forget).detach()
    norm_before = {n: p.detach().clone() for n, p in model.named_parameters() if n.startswith("norm")}
    for _ in range(10):
        optimizer.zero_grad()
        (-model.norm(model.lin(forget)).pow(2).mean() + model.norm(model.lin(kept)).sum()).backward()
        before = {n: p.detach().clone() for n, p in model.named_parameters()}
        optimizer.step()
        transform.apply(model, before)
    moved_kept = (model.lin(kept) - out_kept).norm() / out_kept.norm()
    moved_forget = (model.lin(forget) - out_forget).norm() / out_forget.norm()
    assert moved_kept < 1e-4, moved_kept
    assert moved_forget > 1e-2, moved_forget
    # LayerNorm's parameters are held where they were
    assert all(torch.equal(p, norm_before[n]) for n, p in model.named_parameters() if n.startswith("norm"))


def test_energy_chooses_how_many_directions():
    values = torch.tensor([10.0, 5.0, 3.0, 2.0], dtype=torch.float64)
    stats = {"layers": {"lin": {"inputs": torch.diag(values)}}}
    assert protected_bases(stats, 0.5)["lin"].shape[1] == 1
    assert protected_bases(stats, 0.75)["lin"].shape[1] == 2
    assert protected_bases(stats, 0.76)["lin"].shape[1] == 3
    assert protected_bases(stats, 1.0)["lin"].shape[1] == 4


def test_relaxing_protects_less_energy_down_to_nothing():
    torch.manual_seed(0)
    model = TwoLayers()
    rows = (torch.randn(300, 7) * torch.tensor([8.0, 4.0, 2.0, 1.0, 0.5, 0.25, 0.1])).double()
    stats = {"layers": {"lin": {"inputs": rows.T @ rows}}}
    transform = ProjectedUpdate(model, protected_bases(stats, 0.95), stats, 0.95)
    dims = [transform.dims()["lin"][0]]
    energies = []
    while (note := transform.relax()) is not None:
        energies.append(round(transform.energy, 6))
        dims.append(transform.dims()["lin"][0])
        assert note.startswith("projection energy now")
    assert energies == [0.9, 0.8, 0.6, 0.2, 0.0]
    assert dims == sorted(dims, reverse=True) and dims[-1] == 0 and dims[0] > dims[-2]
    assert ProjectedUpdate(model, protected_bases(stats, 0.95)).relax() is None  # without statistics: nothing to relax


def test_a_smaller_relax_factor_frees_less_at_each_relaxation():
    torch.manual_seed(0)
    model = TwoLayers()
    rows = (torch.randn(300, 7) * torch.tensor([8.0, 4.0, 2.0, 1.0, 0.5, 0.25, 0.1])).double()
    stats = {"layers": {"lin": {"inputs": rows.T @ rows}}}
    gentle = ProjectedUpdate(model, protected_bases(stats, 0.95), stats, 0.95, relax_factor=1.5)
    gentle.relax()
    assert round(gentle.energy, 6) == 0.925
    halving = ProjectedUpdate(model, protected_bases(stats, 0.95), stats, 0.95)
    halving.relax()
    assert gentle.dims()["lin"][0] >= halving.dims()["lin"][0]
