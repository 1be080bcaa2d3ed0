"""The generic Taylor tower against autograd references and its truncation order."""

import math

import pytest
import torch

from idlib.aion import AIONParams, mse_loss
from idlib.problems import paper_test_problem
from idlib.tanh_models import tanh_network_loss
from idlib.taylor import (
    AutogradTower,
    exact_gradient,
    loglog_slope,
    scaled_tower,
    taylor_tower,
    truncated_gradient,
    truncation_errors,
    truncation_slopes,
)

STEP_SIZES = [0.02 * 1.5**i for i in range(6)]  # 0.02 … 0.15


def aion_case(device):
    problem = paper_test_problem(device=device)

    def loss(theta):
        return mse_loss(AIONParams.from_vector(theta, 1, 1, 1), problem.x, problem.y)[0]

    theta = problem.initial_params.to_vector()[0]
    direction = torch.tensor([0.6, -0.03, 0.05, -0.8], dtype=torch.float64, device=device)
    return loss, theta, direction / direction.norm()


def tanh_network_case(device, hidden=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.linspace(-2, 2, 25, dtype=torch.float64)
    y = torch.sin(1.3 * x) + 0.1 * torch.randn(25, generator=generator, dtype=torch.float64)
    loss, size = tanh_network_loss(x.to(device), y.to(device), hidden)
    theta = torch.randn(size, generator=generator, dtype=torch.float64).to(device)
    direction = torch.randn(size, generator=generator, dtype=torch.float64).to(device)
    return loss, theta, direction / direction.norm()


@pytest.mark.parametrize("case", [aion_case, tanh_network_case], ids=["aion", "tanh_network"])
def test_truncation_error_slope_is_order_plus_one(case, device):
    loss, theta, direction = case(device)
    slopes = truncation_slopes(loss, theta, direction, STEP_SIZES, max_order=3)
    for order, slope in enumerate(slopes):
        assert abs(slope - (order + 1)) <= 0.15, f"order {order}: slope {slope:.3f}, expected {order + 1}"


def test_slope_check_can_fail_with_a_wrong_term(device):
    loss, theta, direction = aion_case(device)
    terms = taylor_tower(loss, theta, direction, 2)
    terms[2] *= 1.5  # a wrong second-order term leaves an error of order h^2
    exact = torch.stack([exact_gradient(loss, theta + h * direction) for h in STEP_SIZES])
    errors = truncation_errors(terms, exact, STEP_SIZES)
    assert abs(loglog_slope(STEP_SIZES, errors[:, 2]) - 2.0) <= 0.15


def test_first_terms_match_autograd_gradient_and_hessian(device):
    loss, theta, direction = tanh_network_case(device)
    terms = taylor_tower(loss, theta, direction, 2)
    leaf = theta.clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(loss(leaf), leaf)
    hessian = torch.autograd.functional.hessian(loss, theta)
    torch.testing.assert_close(terms[0], gradient, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(terms[1], hessian @ direction, rtol=1e-11, atol=1e-13)


def test_second_term_matches_third_derivative_by_autograd(device):
    loss, theta, direction = aion_case(device)
    terms = taylor_tower(loss, theta, direction, 2)

    def curvature_along(point):
        return torch.autograd.functional.hessian(loss, point, create_graph=True) @ direction

    # T_2 = ½ ∇³L[δ, δ] = ½ d/dθ (∇²L δ) · δ, with the outer derivative by reverse-mode jacobian.
    third = torch.autograd.functional.jacobian(curvature_along, theta) @ direction
    torch.testing.assert_close(terms[2], 0.5 * third, rtol=1e-10, atol=1e-12)


def test_terms_are_homogeneous_in_the_step(device):
    loss, theta, direction = tanh_network_case(device)
    step = 0.37
    direct = taylor_tower(loss, theta, step * direction, 4)
    torch.testing.assert_close(direct, scaled_tower(taylor_tower(loss, theta, direction, 4), step), rtol=1e-11, atol=1e-15)


def test_truncated_gradient_is_sum_of_terms(device):
    loss, theta, direction = aion_case(device)
    terms = taylor_tower(loss, theta, 0.1 * direction, 3)
    torch.testing.assert_close(truncated_gradient(loss, theta, 0.1 * direction, 3), terms.sum(dim=0))


def test_autograd_tower_jacobian_matches_hessian_and_differences(device):
    loss, theta, direction = tanh_network_case(device, hidden=2)
    tower = AutogradTower(loss)
    zero = torch.zeros_like(theta)
    hessian = torch.autograd.functional.hessian(loss, theta)
    torch.testing.assert_close(tower.truncated_jacobian(theta, zero, 1), hessian, rtol=1e-11, atol=1e-13)
    delta = 0.2 * direction
    jacobian = tower.truncated_jacobian(theta, delta, 3)
    eps = 1e-6
    columns = []
    for i in range(theta.numel()):
        unit = torch.zeros_like(theta)
        unit[i] = eps
        plus = tower.truncated_gradient(theta, delta + unit, 3)
        minus = tower.truncated_gradient(theta, delta - unit, 3)
        columns.append((plus - minus) / (2 * eps))
    torch.testing.assert_close(jacobian, torch.stack(columns, dim=1), rtol=1e-6, atol=1e-8)


def test_loglog_slope_of_power_law():
    steps = [0.1, 0.2, 0.4]
    assert math.isclose(loglog_slope(steps, [3 * h**2.5 for h in steps]), 2.5, rel_tol=1e-12)


@pytest.mark.parametrize(
    ("theta", "delta", "order", "error"),
    [
        (torch.zeros(2, 2, dtype=torch.float64), torch.zeros(2, 2, dtype=torch.float64), 1, ValueError),
        (torch.zeros(3, dtype=torch.float64), torch.zeros(4, dtype=torch.float64), 1, ValueError),
        (torch.zeros(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float32), 1, TypeError),
        (torch.zeros(3, dtype=torch.float64), torch.full((3,), float("nan"), dtype=torch.float64), 1, ValueError),
        (torch.zeros(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64), -1, ValueError),
        (torch.zeros(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64), 1.5, TypeError),
        ([0.0, 0.0, 0.0], torch.zeros(3, dtype=torch.float64), 1, TypeError),
    ],
)
def test_taylor_tower_rejects_bad_input(theta, delta, order, error):
    with pytest.raises(error):
        taylor_tower(lambda t: t.pow(2).sum(), theta, delta, order)


def test_taylor_tower_rejects_non_callable_loss():
    with pytest.raises(TypeError, match="loss must be a callable"):
        taylor_tower("loss", torch.zeros(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64), 1)
