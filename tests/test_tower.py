"""The resummed tower against autograd at the shifted point."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from idlib.aion import AIONParams, complex_atoms, mse_loss, as_batched_inputs
from idlib.tower import leave_one_out_product, resummed_gradient, shift_multiplier


def draw_problem(seed, rank, dim, terms, delta_scale, batch=2, points=23):
    generator = torch.Generator().manual_seed(seed)

    def draw(scale):
        return AIONParams(*(scale * torch.randn(batch, rank, dim, terms, generator=generator, dtype=torch.float64) for _ in range(4)))

    theta, delta = draw(1.0), draw(delta_scale)
    x = 2 * torch.rand(batch, points, dim, generator=generator, dtype=torch.float64) - 1
    y = torch.randn(batch, points, generator=generator, dtype=torch.float64)
    return theta, delta, x, y


def autograd_at(theta, delta, x, y):
    shifted = (theta.to_vector() + delta.to_vector()).detach().requires_grad_(True)
    params = AIONParams.from_vector(shifted, theta.rank, theta.dim, theta.terms)
    loss = mse_loss(params, x, y)
    (gradient,) = torch.autograd.grad(loss.sum(), shifted)
    return loss.detach(), gradient


def relative_error(value, reference):
    return (value - reference).norm(dim=1) / reference.norm(dim=1)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    rank=st.integers(1, 3),
    dim=st.integers(1, 3),
    terms=st.integers(1, 3),
    delta_scale=st.sampled_from([1e-3, 0.1, 1.0, 3.0]),
)
def test_resummed_gradient_matches_autograd(seed, rank, dim, terms, delta_scale):
    theta, delta, x, y = draw_problem(seed, rank, dim, terms, delta_scale)
    loss, gradient = resummed_gradient(theta, delta, x, y)
    reference_loss, reference_gradient = autograd_at(theta, delta, x, y)
    assert float(relative_error(gradient.to_vector(), reference_gradient).max()) <= 1e-12
    torch.testing.assert_close(loss, reference_loss, rtol=1e-12, atol=0)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    rank=st.integers(1, 3),
    dim=st.integers(1, 3),
    terms=st.integers(1, 3),
    delta_scale=st.floats(1e-6, 4.0),
)
def test_resummed_gradient_matches_autograd_many(seed, rank, dim, terms, delta_scale):
    theta, delta, x, y = draw_problem(seed, rank, dim, terms, delta_scale)
    _, gradient = resummed_gradient(theta, delta, x, y)
    _, reference_gradient = autograd_at(theta, delta, x, y)
    assert float(relative_error(gradient.to_vector(), reference_gradient).max()) <= 1e-12


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), delta_scale=st.sampled_from([0.01, 1.0, 5.0]))
def test_shift_identity_for_atoms(seed, delta_scale):
    theta, delta, x, _ = draw_problem(seed, 2, 2, 2, delta_scale)
    x = as_batched_inputs(x, theta)
    shifted = AIONParams(*(a + b for a, b in zip(theta.tensors(), delta.tensors())))
    torch.testing.assert_close(
        complex_atoms(theta, x) * shift_multiplier(delta, x), complex_atoms(shifted, x), rtol=1e-12, atol=1e-300
    )


@pytest.mark.slow
@settings(max_examples=1000, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), delta_scale=st.floats(1e-6, 5.0))
def test_shift_identity_for_atoms_many(seed, delta_scale):
    test_shift_identity_for_atoms.hypothesis.inner_test(seed, delta_scale)


def test_zero_step_gives_gradient_at_theta():
    theta, _, x, y = draw_problem(3, 2, 2, 2, 1.0)
    zero = AIONParams(*(torch.zeros_like(t) for t in theta.tensors()))
    _, gradient = resummed_gradient(theta, zero, x, y)
    _, reference = autograd_at(theta, zero, x, y)
    assert float(relative_error(gradient.to_vector(), reference).max()) <= 1e-13


def test_leave_one_out_product_handles_zeros():
    values = torch.tensor([[2.0, 0.0, 3.0, 5.0]], dtype=torch.float64)
    expected = torch.tensor([[0.0, 30.0, 0.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(leave_one_out_product(values, dim=-1), expected)


def test_resummed_gradient_rejects_step_of_other_shape():
    theta, _, x, y = draw_problem(0, 1, 1, 1, 1.0)
    wrong = AIONParams(*(torch.zeros(2, 1, 1, 2, dtype=torch.float64) for _ in range(4)))
    with pytest.raises(ValueError, match="delta has shape"):
        resummed_gradient(theta, wrong, x, y)


def test_resummed_gradient_rejects_nan_targets():
    theta, delta, x, y = draw_problem(0, 1, 1, 1, 1.0)
    y[0, 3] = float("nan")
    with pytest.raises(ValueError, match="y contains NaN"):
        resummed_gradient(theta, delta, x, y)


def test_resummed_gradient_on_every_device(device):
    theta, delta, x, y = draw_problem(5, 1, 2, 2, 1.0)
    moved = [AIONParams(*(t.to(device) for t in p.tensors())) for p in (theta, delta)]
    _, gradient = resummed_gradient(moved[0], moved[1], x.to(device), y.to(device))
    _, reference = autograd_at(theta, delta, x, y)
    assert float(relative_error(gradient.to_vector().cpu(), reference).max()) <= 1e-12
