"""The closed-form AION tower against nested autograd, the resummed gradient and sympy."""

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from idlib.aion import AIONParams, mse_loss
from idlib.aion_tower import (
    AIONTower,
    aion_tower,
    aion_truncation_errors,
    cauchy_product,
    factorial_scaled_norms,
    root_test_sequence,
    tower_term_norms,
)
from idlib.problems import paper_test_problem
from idlib.symbolic_tower import (
    atom_gradient_terms,
    atom_symbols,
    check_atom_tower,
    complex_atom,
    exponential_resummation_gap,
    is_zero,
    loss_gradient_terms,
    real_atom,
    shifted_atom_terms,
)
from idlib.taylor import AutogradTower, taylor_tower
from idlib.tower import resummed_gradient


def draw_problem(seed, rank, dim, terms, delta_scale, points=19, device="cpu"):
    generator = torch.Generator().manual_seed(seed)

    def draw(scale):
        return AIONParams(*(scale * torch.randn(1, rank, dim, terms, generator=generator, dtype=torch.float64) for _ in range(4)))

    theta, delta = draw(1.0), draw(delta_scale)
    x = 2 * torch.rand(points, dim, generator=generator, dtype=torch.float64) - 1
    y = torch.randn(points, generator=generator, dtype=torch.float64)
    return theta.to(device=device), delta.to(device=device), x.to(device), y.to(device)


def reference_loss(vector, x, y, rank, dim, terms):
    """The AION mean squared error written out term by term, independently of idlib.aion.

    The product over inputs is a chain of multiplications: torch's derivative of ``prod``
    divides by the factors and loses digits when an atom is near zero.
    """
    A, alpha, omega, phi = (part.reshape(rank, dim, terms) for part in vector.split(rank * dim * terms))
    prediction = torch.zeros_like(y)
    for j in range(rank):
        product = torch.ones_like(y)
        for i in range(dim):
            xi = x[:, i, None]
            atoms = A[j, i] * torch.exp(alpha[j, i] * xi) * torch.cos(omega[j, i] * xi + phi[j, i])
            product = product * atoms.sum(dim=1)
        prediction = prediction + product
    return (prediction - y).pow(2).mean()


def nested_autograd_tower(theta, delta, x, y, order):
    def loss(vector):
        return reference_loss(vector, x, y, theta.rank, theta.dim, theta.terms)

    return taylor_tower(loss, theta.to_vector()[0], delta.to_vector()[0], order)


def relative_row_errors(value, reference):
    return ((value - reference).norm(dim=-1) / reference.norm(dim=-1).clamp_min(1e-300)).max()


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    rank=st.integers(1, 2),
    dim=st.integers(1, 2),
    terms=st.integers(1, 2),
    delta_scale=st.sampled_from([0.01, 0.3, 1.0]),
)
def test_closed_form_matches_nested_autograd(seed, rank, dim, terms, delta_scale):
    theta, delta, x, y = draw_problem(seed, rank, dim, terms, delta_scale)
    closed = aion_tower(theta, delta, x, y, 4)[0]
    reference = nested_autograd_tower(theta, delta, x, y, 4)
    assert float(relative_row_errors(closed, reference)) <= 1e-10


def test_closed_form_matches_nested_autograd_on_device(device):
    theta, delta, x, y = draw_problem(11, 2, 2, 2, 0.5, device=device)
    closed = aion_tower(theta, delta, x, y, 5)[0]
    reference = nested_autograd_tower(theta, delta, x, y, 5)
    assert closed.device.type == device.type
    assert float(relative_row_errors(closed, reference)) <= 1e-10


def test_batched_tower_matches_single_problems():
    generator = torch.Generator().manual_seed(3)
    theta = AIONParams(*(torch.randn(3, 2, 1, 2, generator=generator, dtype=torch.float64) for _ in range(4)))
    delta = AIONParams(*(0.2 * torch.randn(3, 2, 1, 2, generator=generator, dtype=torch.float64) for _ in range(4)))
    x = torch.linspace(0, 2, 15, dtype=torch.float64)
    y = torch.randn(3, 15, generator=generator, dtype=torch.float64)
    batched = aion_tower(theta, delta, x, y, 3)
    for b in range(3):
        single = aion_tower(theta[b], delta[b], x, y[b], 3)[0]
        torch.testing.assert_close(batched[b], single, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("delta_scale", [0.1, 1.0, 2.0])
def test_partial_sums_converge_to_resummed_gradient(delta_scale):
    theta, delta, x, y = draw_problem(5, 2, 2, 1, delta_scale)
    terms = aion_tower(theta, delta, x, y, 60)[0]
    exact = resummed_gradient(theta, delta, x, y)[1].to_vector()[0]
    error = (terms.sum(dim=0) - exact).norm() / exact.norm()
    # Summing terms far larger than the sum cancels digits: allow 100 eps times the largest term.
    rounding = 100 * torch.finfo(torch.float64).eps * float(terms.norm(dim=1).max() / exact.norm())
    assert float(error) <= max(1e-12, rounding)


def test_term_norms_decay_faster_than_any_geometric_rate():
    theta, delta, x, y = draw_problem(7, 1, 1, 2, 1.0)
    norms = tower_term_norms(aion_tower(theta, delta, x, y, 60)[0])
    roots = root_test_sequence(norms)
    # Geometric decay at rate q would keep the root test near q; an entire series sends it to 0.
    assert float(roots[59]) < 0.5 * float(roots[14]), roots
    # Mean decay rate over windows of ten orders: constant for a geometric series, falling here.
    rates = [float((norms[k + 10] / norms[k]) ** 0.1) for k in range(10, 51, 10)]
    assert all(later < earlier for earlier, later in zip(rates, rates[1:])), rates
    assert rates[-1] < 0.1, rates
    # The loss gradient multiplies two atom series, each of exponential type max|u|, so
    # ‖T_k‖ ≤ C k (2 max|u|)^k / k!; with c = 1.5 · 2 max|u| the scaled norms must fall off.
    u = torch.complex(delta.alpha[0, None] * x[:, None, :, None], delta.omega[0, None] * x[:, None, :, None] + delta.phi[0, None])
    scaled = factorial_scaled_norms(norms, scale=3.0 * float(u.abs().max()))
    assert float(scaled[30:].max()) <= float(scaled[:30].max())


def test_test_problem_tower_converges_at_the_full_step():
    problem = paper_test_problem()
    step = problem.true_params.to_vector()[0] - problem.initial_params.to_vector()[0]
    direction = AIONParams.from_vector(step / step.norm(), 1, 1, 1)
    errors = aion_truncation_errors(problem.initial_params, direction, problem.x, problem.y, [float(step.norm())], 40)
    assert float(errors[0, 40]) <= 1e-14
    assert float(errors[0, 1]) >= 1e-2  # Newton's truncation is far off at this step


def test_cauchy_product_matches_polynomial_multiplication():
    generator = np.random.default_rng(0)
    left, right = generator.normal(size=7), generator.normal(size=7)
    expected = np.polynomial.polynomial.polymul(left, right)[:7]
    product = cauchy_product(torch.from_numpy(left), torch.from_numpy(right))
    np.testing.assert_allclose(product.numpy(), expected, rtol=1e-13, atol=1e-14)


def test_aion_tower_methods_match_autograd_tower():
    problem = paper_test_problem()
    theta = problem.initial_params.to_vector()[0]
    delta = torch.tensor([0.3, -0.02, 0.04, -0.5], dtype=torch.float64)

    def loss(vector):
        return mse_loss(AIONParams.from_vector(vector, 1, 1, 1), problem.x, problem.y)[0]

    closed, generic = AIONTower(problem.x, problem.y), AutogradTower(loss)
    torch.testing.assert_close(closed.loss(theta), loss(theta))
    torch.testing.assert_close(closed.gradient(theta), generic.gradient(theta), rtol=1e-12, atol=1e-14)
    hessian = torch.autograd.functional.hessian(loss, theta)
    torch.testing.assert_close(closed.truncated_jacobian(theta, torch.zeros_like(theta), 1), hessian, rtol=1e-11, atol=1e-12)
    for order in (2, 3):
        torch.testing.assert_close(closed.truncated_gradient(theta, delta, order),
                                   generic.truncated_gradient(theta, delta, order), rtol=1e-11, atol=1e-13)
        torch.testing.assert_close(closed.truncated_jacobian(theta, delta, order),
                                   generic.truncated_jacobian(theta, delta, order), rtol=1e-10, atol=1e-12)


def test_aion_tower_rejects_bad_input():
    theta, delta, x, y = draw_problem(1, 1, 1, 1, 0.1)
    with pytest.raises(TypeError, match="AIONParams"):
        aion_tower(theta.to_vector(), delta, x, y, 2)
    with pytest.raises(ValueError, match="must match params"):
        aion_tower(theta, AIONParams(*(torch.zeros(1, 2, 1, 1, dtype=torch.float64) for _ in range(4))), x, y, 2)
    with pytest.raises(ValueError, match="order"):
        aion_tower(theta, delta, x, y, -2)
    nan_delta = AIONParams(delta.A * float("nan"), delta.alpha, delta.omega, delta.phi)
    with pytest.raises(ValueError, match="delta.A contains NaN"):
        aion_tower(theta, nan_delta, x, y, 2)
    with pytest.raises(ValueError, match="rank must be a positive int"):
        AIONTower(x, y, rank=0)


# ---------------------------------------------------------------------------------------
# The symbolic proof for one atom


def test_series_of_exponential_times_atom_is_the_shifted_atom():
    x, alpha, shift, A = sp.symbols("x alpha Delta_alpha A", real=True)
    k = sp.Symbol("k", integer=True, nonnegative=True)
    series = sp.summation((shift * x) ** k / sp.factorial(k), (k, 0, sp.oo))
    assert sp.simplify(A * sp.exp(alpha * x) * series - A * sp.exp((alpha + shift) * x)) == 0
    assert exponential_resummation_gap(atom_symbols()) == 0


def test_sympy_series_of_shifted_atom_gradient_matches_closed_form():
    symbols = atom_symbols()
    order = 6
    closed = atom_gradient_terms(symbols, order)
    for i, parameter in enumerate(symbols.parameters):
        shifted = sp.diff(complex_atom(symbols), parameter).subs(symbols.shift(), simultaneous=True)
        expansion = sp.expand(sp.series(shifted, symbols.t, 0, order + 1).removeO())
        for k in range(order + 1):
            assert is_zero(expansion.coeff(symbols.t, k) - closed[k][i]), (parameter, k)


def test_sympy_taylor_coefficients_of_loss_gradient_match_closed_form():
    symbols = atom_symbols()
    order = 3
    loss = (real_atom(symbols) - symbols.y) ** 2
    closed = loss_gradient_terms(symbols, order)
    for i, parameter in enumerate(symbols.parameters):
        shifted = sp.diff(loss, parameter).subs(symbols.shift(), simultaneous=True)
        for k in range(order + 1):
            coefficient = sp.diff(shifted, symbols.t, k).subs(symbols.t, 0) / sp.factorial(k)
            assert is_zero(coefficient - closed[k][i]), (parameter, k)


@pytest.mark.slow
def test_sympy_loss_gradient_matches_closed_form_to_order_six():
    symbols = atom_symbols()
    order = 6
    loss = (real_atom(symbols) - symbols.y) ** 2
    closed = loss_gradient_terms(symbols, order)
    for i, parameter in enumerate(symbols.parameters):
        shifted = sp.diff(loss, parameter).subs(symbols.shift(), simultaneous=True)
        for k in range(order + 1):
            coefficient = sp.diff(shifted, symbols.t, k).subs(symbols.t, 0) / sp.factorial(k)
            assert is_zero(coefficient - closed[k][i]), (parameter, k)


def test_symbolic_terms_evaluate_to_the_torch_closed_form():
    symbols = atom_symbols()
    order = 4
    values = {symbols.A: 0.8, symbols.alpha: -0.3, symbols.omega: 1.7, symbols.phi: 0.4, symbols.delta_A: 0.2,
              symbols.delta_alpha: 0.15, symbols.delta_omega: -0.25, symbols.delta_phi: 0.6, symbols.x: 1.3,
              symbols.y: 0.45}
    symbolic = [[complex(sp.N(entry.subs(values))) for entry in row] for row in loss_gradient_terms(symbols, order)]
    theta = AIONParams.from_values(0.8, -0.3, 1.7, 0.4)
    delta = AIONParams.from_values(0.2, 0.15, -0.25, 0.6)
    numeric = aion_tower(theta, delta, torch.tensor([1.3], dtype=torch.float64), torch.tensor([0.45], dtype=torch.float64), order)[0]
    # The torch tower has the factor 1/N = 1 for one point; sympy's entries are real.
    np.testing.assert_allclose(np.array(symbolic).real, numeric.numpy(), rtol=1e-12, atol=1e-14)
    assert max(abs(value.imag) for row in symbolic for value in row) <= 1e-14


def test_check_atom_tower_detects_a_wrong_formula(monkeypatch):
    import idlib.symbolic_tower as module

    def wrong_terms(symbols, order):
        terms = shifted_atom_terms(symbols, order)
        return [term * (2 if k == 2 else 1) for k, term in enumerate(terms)]

    monkeypatch.setattr(module, "shifted_atom_terms", wrong_terms)
    results = check_atom_tower(order=2, loss_order=2)
    assert results["resummation"] is True  # the resummation identity does not use the terms
    assert results["atom_gradient"] is False
    assert results["loss_gradient"] is False


# ---------------------------------------------------------------------------------------
# Shifted atoms evaluated with mpmath as an independent check of the numeric series


def test_shifted_atom_terms_match_mpmath_taylor_coefficients():
    theta = AIONParams.from_values(1.1, -0.2, 2.0, 0.3)
    delta = AIONParams.from_values(-0.4, 0.3, 0.5, -0.7)
    x_value = 1.7
    terms = aion_tower(theta, delta, torch.tensor([x_value], dtype=torch.float64), torch.tensor([0.0], dtype=torch.float64), 0)
    assert terms.shape == (1, 1, 4)

    def shifted_model(t):
        return (1.1 - 0.4 * t) * mpmath.exp((-0.2 + 0.3 * t) * x_value) * mpmath.cos((2.0 + 0.5 * t) * x_value + 0.3 - 0.7 * t)

    with mpmath.workdps(40):
        reference = [float(value) for value in mpmath.taylor(shifted_model, 0, 8)]
    from idlib.aion_tower import shifted_atom_series

    x = torch.tensor([[[x_value]]], dtype=torch.float64)
    term_series, _ = shifted_atom_series(theta, delta, x, 8)
    np.testing.assert_allclose(term_series.real.reshape(9).numpy(), reference, rtol=1e-12, atol=1e-14)
    assert math.isclose(reference[0], 1.1 * math.exp(-0.2 * x_value) * math.cos(2.0 * x_value + 0.3), rel_tol=1e-14)


def test_taylor_coefficient_methods_agree():
    from idlib.symbolic_tower import taylor_coefficients

    t, a = sp.symbols("t a", real=True)
    expression = sp.exp(a * t) * sp.cos(t) / (1 + t)
    by_series = taylor_coefficients(expression, t, 5, method="series")
    by_diff = taylor_coefficients(expression, t, 5, method="diff")
    assert all(sp.simplify(left - right) == 0 for left, right in zip(by_series, by_diff))
    with pytest.raises(ValueError, match="method must be"):
        taylor_coefficients(expression, t, 2, method="pade")
