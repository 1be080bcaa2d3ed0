"""The Infinite Descent direct solve: exactness, agreement with scipy, batching and failures."""

import numpy as np
import pytest
import scipy.optimize
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from idlib.aion import AIONParams, aion, mse_loss
from idlib.direct_solve import characteristic_polynomial, direct_solve, infinite_descent
from idlib.problems import paper_test_problem, parameter_error, random_one_atom_problem


def autograd_gradient_norm(params, x, y):
    theta = params.to_vector().detach().requires_grad_(True)
    loss = mse_loss(AIONParams.from_vector(theta, params.rank, params.dim, params.terms), x, y)
    (gradient,) = torch.autograd.grad(loss.sum(), theta)
    return gradient.norm(dim=1)


def test_step_lands_on_test_problem_minimum():
    problem = paper_test_problem()
    report = infinite_descent(problem.initial_params, problem.x, problem.y)
    final = AIONParams.from_vector(report.theta, 1, 1, 1)
    assert report.status == "converged"
    assert report.outer_iterations == 1
    assert report.grad_norm_rel <= 1e-10
    assert float(parameter_error(final, problem.true_params)[0]) <= 1e-8


def test_step_reports_all_inner_work():
    problem = paper_test_problem()
    report = infinite_descent(problem.initial_params, problem.x, problem.y)
    assert report.work.inner_iterations >= 1
    assert report.work.eig_solves == report.work.inner_iterations + 1
    assert report.work.linear_solves == report.work.inner_iterations + 1
    assert report.work.grad_evals == 2
    assert report.wall_time_s > 0


def test_reported_gradient_agrees_with_autograd():
    problem = paper_test_problem()
    result = direct_solve(problem.initial_params, problem.x, problem.y)
    start_norm = autograd_gradient_norm(problem.initial_params, problem.x, problem.y)
    torch.testing.assert_close(result.grad_norm_start, start_norm, rtol=1e-10, atol=0)
    final_norm = autograd_gradient_norm(result.params, problem.x, problem.y)
    assert float(final_norm[0]) <= 1e-10 * float(start_norm[0])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), distance=st.sampled_from([0.01, 0.1, 0.3]))
def test_step_exact_on_well_specified_problems(seed, distance):
    problem = random_one_atom_problem(seed, start_distance=distance)
    report = infinite_descent(problem.initial_params, problem.x, problem.y)
    final = AIONParams.from_vector(report.theta, 1, 1, 1)
    assert report.status == "converged", report.message
    assert report.grad_norm_rel <= 1e-10
    assert float(parameter_error(final, problem.true_params)[0]) <= 1e-8


@pytest.mark.slow
@settings(max_examples=1000, deadline=None)
@given(seed=st.integers(0, 10**9), distance=st.floats(0.0, 0.3))
def test_step_exact_on_well_specified_problems_many(seed, distance):
    problem = random_one_atom_problem(seed, start_distance=distance)
    report = infinite_descent(problem.initial_params, problem.x, problem.y)
    final = AIONParams.from_vector(report.theta, 1, 1, 1)
    assert report.status == "converged", report.message
    assert float(parameter_error(final, problem.true_params)[0]) <= 1e-8


def residuals_and_jacobian(x):
    def residuals(theta, y):
        A, alpha, omega, phi = theta
        return A * np.exp(alpha * x) * np.cos(omega * x + phi) - y

    def jacobian(theta, y):
        A, alpha, omega, phi = theta
        envelope, angle = np.exp(alpha * x), omega * x + phi
        return np.stack(
            [envelope * np.cos(angle), x * A * envelope * np.cos(angle), -x * A * envelope * np.sin(angle), -A * envelope * np.sin(angle)],
            axis=1,
        )

    return residuals, jacobian


@pytest.mark.parametrize("noise", [1e-3, 1e-2, 1e-1])
def test_noisy_step_matches_scipy_least_squares(noise):
    problem = random_one_atom_problem(11, noise=noise, start_distance=0.05)
    x = problem.x[:, 0].numpy()
    y = problem.y.numpy()
    residuals, jacobian = residuals_and_jacobian(x)
    reference = scipy.optimize.least_squares(
        residuals, problem.true_params.to_vector()[0].numpy(), jac=jacobian, args=(y,), method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15
    )
    report = infinite_descent(problem.initial_params, problem.x, problem.y)
    assert report.status == "converged", report.message
    ours = AIONParams.from_vector(report.theta, 1, 1, 1)
    theirs = AIONParams.from_vector(torch.as_tensor(reference.x), 1, 1, 1)
    assert float(parameter_error(ours, theirs)[0]) <= 1e-7
    assert report.final_loss == pytest.approx(float(np.mean(reference.fun**2)), rel=1e-9)
    assert report.grad_norm_rel <= 1e-9


def test_two_terms_recovered_exactly():
    truth = AIONParams.from_values([[[1.0, 0.6]]], [[[-0.1, 0.05]]], [[[1.0, 2.7]]], [[[0.3, -1.2]]])
    x = torch.linspace(0, 10, 80, dtype=torch.float64)
    y = aion(truth, x)[0]
    start = AIONParams.from_values([[[0.8, 0.8]]], [[[0.0, 0.0]]], [[[1.1, 2.5]]], [[[0.0, 0.0]]])
    result = direct_solve(start, x, y)
    assert result.status == ["converged"]
    assert float(parameter_error(result.params, truth)[0]) <= 1e-8


def test_batch_matches_single_problems():
    problems = [random_one_atom_problem(seed, noise=0.01 * (seed % 3), start_distance=0.1) for seed in range(6)]
    starts = AIONParams(*(torch.cat(parts) for parts in zip(*(p.initial_params.tensors() for p in problems))))
    y = torch.stack([p.y for p in problems])
    batched = direct_solve(starts, problems[0].x, y)
    for index, problem in enumerate(problems):
        single = direct_solve(problem.initial_params, problem.x, problem.y)
        assert batched.status[index] == single.status[0]
        assert int(batched.inner_iterations[index]) == int(single.inner_iterations[0])
        torch.testing.assert_close(batched.params[index].to_vector(), single.params.to_vector(), rtol=1e-10, atol=1e-12)


def test_characteristic_polynomial_roots_are_the_atoms():
    params = AIONParams.from_values(1.0, -0.2, 1.5, 0.0)
    h = torch.tensor([0.1], dtype=torch.float64)
    gamma = characteristic_polynomial(params, h)[0].numpy()
    roots = np.roots(gamma[::-1])
    expected = np.exp((-0.2 + 1.5j) * 0.1)
    assert min(abs(roots - expected)) <= 1e-14 and min(abs(roots - expected.conjugate())) <= 1e-14


def test_real_exponentials_are_reported_not_representable():
    x = torch.linspace(0, 5, 40, dtype=torch.float64)
    y = torch.exp(-0.3 * x) + 0.5 * torch.exp(-1.5 * x)
    start = AIONParams.from_values(1.0, -0.5, 0.5, 0.0)
    result = direct_solve(start, x, y)
    assert result.status == ["not_representable"]
    assert "real" in result.message[0]
    assert float(result.delta.to_vector().abs().max()) == 0.0


def test_non_uniform_grid_rejected():
    x = torch.linspace(0, 1, 20, dtype=torch.float64) ** 2
    with pytest.raises(ValueError, match="not a uniform grid"):
        direct_solve(AIONParams.from_values(1.0, 0.0, 1.0, 0.0), x, torch.sin(x))


def test_two_dimensional_model_rejected():
    params = AIONParams(*(torch.ones(1, 1, 2, 1, dtype=torch.float64) for _ in range(4)))
    x = torch.rand(30, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="one input dimension"):
        direct_solve(params, x, torch.zeros(30, dtype=torch.float64))


def test_too_few_points_rejected():
    x = torch.linspace(0, 1, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match="at least 5 points"):
        direct_solve(AIONParams.from_values(1.0, 0.0, 1.0, 0.0), x, torch.sin(x))


def test_overflowing_rates_rejected():
    x = torch.linspace(0, 100, 50, dtype=torch.float64)
    with pytest.raises(ValueError, match="overflows"):
        direct_solve(AIONParams.from_values(1.0, 8.0, 1.0, 0.0), x, torch.sin(x))


def test_single_problem_api_rejects_batches():
    params = AIONParams(*(torch.ones(2, 1, 1, 1, dtype=torch.float64) for _ in range(4)))
    with pytest.raises(ValueError, match="batch of 2"):
        infinite_descent(params, torch.linspace(0, 1, 10, dtype=torch.float64), torch.zeros(10, dtype=torch.float64))


def test_step_on_every_device(device):
    problem = paper_test_problem(device=device)
    result = direct_solve(problem.initial_params, problem.x, problem.y)
    assert result.status == ["converged"]
    assert float(parameter_error(result.params.to("cpu"), problem.true_params.to("cpu"))[0]) <= 1e-8


def assert_batch_equals_singles(seeds, noise):
    problems = [random_one_atom_problem(seed, noise=noise, start_distance=0.1) for seed in seeds]
    starts = AIONParams(*(torch.cat(parts) for parts in zip(*(p.initial_params.tensors() for p in problems))))
    batched = direct_solve(starts, problems[0].x, torch.stack([p.y for p in problems]))
    for index, problem in enumerate(problems):
        single = direct_solve(problem.initial_params, problem.x, problem.y)
        assert batched.status[index] == single.status[0]
        torch.testing.assert_close(batched.params[index].to_vector(), single.params.to_vector(), rtol=1e-9, atol=1e-11)


@settings(max_examples=10, deadline=None)
@given(seeds=st.lists(st.integers(0, 10**6), min_size=1, max_size=5), noise=st.sampled_from([0.0, 1e-3, 1e-2]))
def test_batch_equals_singles_property(seeds, noise):
    assert_batch_equals_singles(seeds, noise)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None)
@given(seeds=st.lists(st.integers(0, 10**9), min_size=1, max_size=5), noise=st.sampled_from([0.0, 1e-3, 1e-2, 1e-1]))
def test_batch_equals_singles_property_many(seeds, noise):
    assert_batch_equals_singles(seeds, noise)
