"""The tanh-unit tower: closed form against autograd and mpmath, and its radius of convergence."""

import math

import mpmath
import numpy as np
import pytest
import torch

from idlib.aion_tower import root_test_sequence, tower_term_norms
from idlib.tanh_models import (
    tanh_network_loss,
    tanh_taylor_coefficients,
    tanh_truncation_errors,
    tanh_unit,
    tanh_unit_loss,
    tanh_unit_problem,
    tanh_unit_radius,
    tanh_unit_tower,
)
from idlib.taylor import taylor_tower


def unit_problem(device="cpu"):
    x, y, theta, truth = tanh_unit_problem(device=device)
    direction = (truth - theta) / (truth - theta).norm()
    return x, y, theta, direction


@pytest.mark.parametrize("z", [-1.3, 0.0, 0.4, 2.5])
def test_tanh_coefficients_match_mpmath(z):
    coefficients = tanh_taylor_coefficients(torch.tensor(z, dtype=torch.float64), 30)
    with mpmath.workdps(50):
        reference = np.array([float(value) for value in mpmath.taylor(mpmath.tanh, z, 30)])
    scale = np.abs(reference).max()
    np.testing.assert_allclose(coefficients.numpy(), reference, rtol=1e-11, atol=1e-13 * scale)


def test_closed_form_tower_matches_nested_autograd(device):
    x, y, theta, direction = unit_problem(device)
    delta = 0.3 * direction
    closed = tanh_unit_tower(theta, delta, x, y, 5)
    reference = taylor_tower(tanh_unit_loss(x, y), theta, delta, 5)
    errors = (closed - reference).norm(dim=1) / reference.norm(dim=1)
    assert float(errors.max()) <= 1e-10


def test_radius_of_one_point_is_the_pole_distance():
    x0, weight, bias = 1.7, 0.8, -0.3
    theta = torch.tensor([1.0, weight, bias], dtype=torch.float64)
    along_weight = torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64)
    along_bias = torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64)
    x = torch.tensor([x0], dtype=torch.float64)
    pole_distance = abs(complex(weight * x0 + bias, -math.pi / 2))  # |z - iπ/2|, z = w x + b
    assert math.isclose(tanh_unit_radius(theta, along_weight, x), pole_distance / x0, rel_tol=1e-14)
    assert math.isclose(tanh_unit_radius(theta, along_bias, x), pole_distance, rel_tol=1e-14)
    amplitude_only = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    assert tanh_unit_radius(theta, amplitude_only, x) == math.inf


def test_radius_matches_root_test_of_the_tower():
    x, y, theta, direction = unit_problem()
    radius = tanh_unit_radius(theta, direction, x)
    norms = tower_term_norms(tanh_unit_tower(theta, direction, x, y, 80))
    # ‖T_k‖ ≈ C ρ^{-k}: the growth between orders 30-40 and 70-80 removes the constant C,
    # which the plain root test ‖T_k‖^{1/k} still feels at k = 80.
    growth = (norms[70:81].max() / norms[30:41].max()) ** (1.0 / 40)
    assert abs(1.0 / float(growth) - radius) <= 0.05 * radius
    assert abs(1.0 / float(root_test_sequence(norms)[-1]) - radius) <= 0.1 * radius


def test_tower_converges_inside_and_diverges_outside_the_radius():
    x, y, theta, direction = unit_problem()
    radius = tanh_unit_radius(theta, direction, x)
    errors = tanh_truncation_errors(theta, direction, x, y, [0.5 * radius, 1.5 * radius], 40)
    inside, outside = errors[0], errors[1]
    assert float(inside[40]) <= 1e-8
    assert float(inside[40]) < float(inside[20]) < float(inside[5])
    assert float(outside[40]) > 1e3 * float(outside[10])
    assert float(outside[40]) > 1.0


def test_full_step_to_the_minimum_lies_beyond_the_radius():
    x, y, theta, truth = tanh_unit_problem()
    torch.testing.assert_close(y, truth[0] * torch.tanh(truth[1] * x + truth[2]))
    step = truth - theta
    radius = tanh_unit_radius(theta, step / step.norm(), x)
    assert float(step.norm()) > 1.5 * radius


def test_tanh_network_loss_matches_explicit_sum():
    x = torch.linspace(-1, 1, 7, dtype=torch.float64)
    y = x**2
    loss, size = tanh_network_loss(x, y, 2)
    theta = torch.arange(size, dtype=torch.float64) / 10
    w, b, v, c = theta[:2], theta[2:4], theta[4:6], theta[6]
    prediction = sum(v[j] * torch.tanh(w[j] * x + b[j]) for j in range(2)) + c
    assert size == 7
    torch.testing.assert_close(loss(theta), (prediction - y).pow(2).mean())


@pytest.mark.parametrize(
    ("x", "y", "hidden", "error"),
    [
        (torch.zeros(4, dtype=torch.float64), torch.zeros(5, dtype=torch.float64), 2, ValueError),
        (torch.zeros(4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64), 0, ValueError),
        (torch.zeros(4, dtype=torch.int64), torch.zeros(4, dtype=torch.int64), 2, TypeError),
        (torch.zeros(4, dtype=torch.float64), torch.zeros(4, dtype=torch.float32), 2, TypeError),
        (torch.zeros(2, 2, dtype=torch.float64), torch.zeros(2, 2, dtype=torch.float64), 2, ValueError),
        ([0.0, 1.0], torch.zeros(2, dtype=torch.float64), 2, TypeError),
    ],
)
def test_tanh_network_loss_rejects_bad_data(x, y, hidden, error):
    with pytest.raises(error):
        tanh_network_loss(x, y, hidden)


def test_tanh_unit_tower_rejects_wrong_parameter_count():
    x, y, _, _ = unit_problem()
    with pytest.raises(ValueError, match="3 entries"):
        tanh_unit_tower(torch.zeros(4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64), x, y, 2)
