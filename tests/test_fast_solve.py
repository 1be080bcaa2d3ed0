"""The fast Infinite Descent step: exactness, agreement with the Osborne solver and scipy, batching,
statuses and input checks."""

import numpy as np
import pytest
import scipy.optimize
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from idlib import fast_solve
from idlib.aion import AIONParams, aion, mse_loss
from idlib.direct_solve import direct_solve
from idlib.fast_solve import fast_direct_solve, fast_infinite_descent, newton_solve
from idlib.problems import paper_test_problem, parameter_error, random_one_atom_problem


def stack_problems(problems):
    """Batch one-atom problems that share a grid: starts, truths and targets."""
    starts = AIONParams(*(torch.cat(parts) for parts in zip(*(p.initial_params.tensors() for p in problems))))
    truths = AIONParams(*(torch.cat(parts) for parts in zip(*(p.true_params.tensors() for p in problems))))
    targets = torch.stack([p.y for p in problems])
    return starts, truths, targets


def autograd_gradient_norm(params, x, y):
    theta = params.to_vector().detach().requires_grad_(True)
    loss = mse_loss(AIONParams.from_vector(theta, params.rank, params.dim, params.terms), x, y)
    (gradient,) = torch.autograd.grad(loss.sum(), theta)
    return gradient.norm(dim=1)


def lm_reference(problem):
    """scipy's Levenberg–Marquardt fit from the truth with tolerances at machine precision."""
    x = problem.x[:, 0].numpy()
    y = problem.y.numpy()

    def residuals(theta):
        A, alpha, omega, phi = theta
        return A * np.exp(alpha * x) * np.cos(omega * x + phi) - y

    def jacobian(theta):
        A, alpha, omega, phi = theta
        envelope, angle = np.exp(alpha * x), omega * x + phi
        return np.stack(
            [
                envelope * np.cos(angle),
                x * A * envelope * np.cos(angle),
                -x * A * envelope * np.sin(angle),
                -A * envelope * np.sin(angle),
            ],
            axis=1,
        )

    start = problem.true_params.to_vector()[0].numpy()
    result = scipy.optimize.least_squares(
        residuals, start, jac=jacobian, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15
    )
    return AIONParams.from_vector(torch.as_tensor(result.x), 1, 1, 1), float(np.mean(result.fun**2))


def test_batch_exact_on_noise_free_problems():
    problems = [random_one_atom_problem(seed, start_distance=0.1 + 0.01 * (seed % 20)) for seed in range(64)]
    starts, truths, y = stack_problems(problems)
    result = fast_direct_solve(starts, problems[0].x, y)
    assert result.status == ["converged"] * 64
    assert float(parameter_error(result.params, truths).max()) <= 1e-8
    assert float((result.grad_norm / result.grad_norm_start).max()) <= 1e-10


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6), distance=st.sampled_from([0.01, 0.1, 0.3]))
def test_step_exact_on_well_specified_problems(seed, distance):
    problem = random_one_atom_problem(seed, start_distance=distance)
    result = fast_direct_solve(problem.initial_params, problem.x, problem.y)
    assert result.status == ["converged"], result.message
    assert float(result.grad_norm[0] / result.grad_norm_start[0]) <= 1e-10
    assert float(parameter_error(result.params, problem.true_params)[0]) <= 1e-8


def test_reported_gradient_agrees_with_autograd():
    problem = paper_test_problem()
    result = fast_direct_solve(problem.initial_params, problem.x, problem.y)
    start_norm = autograd_gradient_norm(problem.initial_params, problem.x, problem.y)
    torch.testing.assert_close(result.grad_norm_start, start_norm, rtol=1e-10, atol=0)
    final_norm = autograd_gradient_norm(result.params, problem.x, problem.y)
    assert float(final_norm[0]) <= 1e-10 * float(start_norm[0])
    torch.testing.assert_close(result.loss, mse_loss(result.params, problem.x, problem.y), rtol=1e-8, atol=1e-28)


@pytest.mark.parametrize("terms", [1, 2, 3])
def test_closed_form_derivatives_match_autograd(terms):
    generator = torch.Generator().manual_seed(terms)
    batch, points = 3, 40
    x = torch.linspace(0.5, 6.0, points, dtype=torch.float64)
    theta = 0.3 * torch.randn(batch, 4, terms, generator=generator, dtype=torch.float64)
    theta[:, 0] += 1.0
    theta[:, 2] += torch.arange(1, terms + 1, dtype=torch.float64)
    y = torch.randn(batch, points, generator=generator, dtype=torch.float64)
    grid = fast_solve._make_grid(x[None, :, None])
    tables = fast_solve._tables_on(terms, torch.float64, torch.device("cpu"))
    point = fast_solve._evaluate(theta, grid, y)
    gradient = fast_solve._gradient(point, grid, tables)
    hessian = fast_solve._hessian(point, grid, tables)
    for b in range(batch):
        vector = theta[b].reshape(-1)

        def loss(v, b=b):
            return mse_loss(AIONParams.from_vector(v, 1, 1, terms), x, y[b])[0]

        torch.testing.assert_close(point.loss[b], loss(vector), rtol=1e-12, atol=0)
        torch.testing.assert_close(gradient[b], torch.func.grad(loss)(vector), rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(hessian[b], torch.func.hessian(loss)(vector), rtol=1e-10, atol=1e-11)


@pytest.mark.parametrize("noise", [1e-3, 1e-2, 1e-1])
def test_noisy_step_matches_osborne_and_scipy(noise):
    problem = random_one_atom_problem(11, noise=noise, start_distance=0.05)
    fast = fast_direct_solve(problem.initial_params, problem.x, problem.y)
    osborne = direct_solve(problem.initial_params, problem.x, problem.y)
    lm_params, lm_loss = lm_reference(problem)
    assert fast.status == ["converged"], fast.message
    assert osborne.status == ["converged"], osborne.message
    assert float(parameter_error(fast.params, osborne.params)[0]) <= 1e-7
    assert float(parameter_error(fast.params, lm_params)[0]) <= 1e-7
    assert float(fast.loss[0]) == pytest.approx(lm_loss, rel=1e-9)
    assert float(fast.grad_norm[0] / fast.grad_norm_start[0]) <= 1e-10
    assert int(fast.inner_iterations[0]) >= 1


def test_noisy_batch_matches_osborne():
    problems = [random_one_atom_problem(100 + seed, noise=1e-3, start_distance=0.1) for seed in range(32)]
    starts, _, y = stack_problems(problems)
    fast = fast_direct_solve(starts, problems[0].x, y)
    osborne = direct_solve(starts, problems[0].x, y)
    assert fast.status == ["converged"] * 32
    agreeing = [s == "converged" for s in osborne.status]
    errors = parameter_error(fast.params, osborne.params)
    assert float(errors[torch.tensor(agreeing)].max()) <= 1e-7


def test_two_terms_recovered_exactly():
    truth = AIONParams.from_values([[[1.0, 0.6]]], [[[-0.1, 0.05]]], [[[1.0, 2.7]]], [[[0.3, -1.2]]])
    x = torch.linspace(0, 10, 80, dtype=torch.float64)
    y = aion(truth, x)[0]
    start = AIONParams.from_values([[[0.8, 0.8]]], [[[0.0, 0.0]]], [[[1.1, 2.5]]], [[[0.0, 0.0]]])
    result = fast_direct_solve(start, x, y)
    assert result.status == ["converged"], result.message
    assert float(parameter_error(result.params, truth)[0]) <= 1e-8
    assert int(result.eig_solves[0]) == 2


def test_rank_two_model_recovered_exactly():
    truth = AIONParams.from_values([[[1.0]], [[0.6]]], [[[-0.1]], [[0.05]]], [[[1.0]], [[2.7]]], [[[0.3]], [[-1.2]]])
    x = torch.linspace(0, 10, 80, dtype=torch.float64)
    y = aion(truth, x)[0]
    start = AIONParams.from_values([[[0.8]], [[0.8]]], [[[0.0]], [[0.0]]], [[[2.5]], [[1.1]]], [[[0.0]], [[0.0]]])
    result = fast_direct_solve(start, x, y)
    assert result.status == ["converged"], result.message
    # The slot whose start frequency is higher receives the higher frequency.
    assert float(result.params.omega[0, 0, 0, 0]) == pytest.approx(2.7, abs=1e-9)
    assert float(result.params.omega[0, 1, 0, 0]) == pytest.approx(1.0, abs=1e-9)


def test_noisy_two_terms_match_osborne():
    truth = AIONParams.from_values([[[1.0, 0.6]]], [[[-0.1, 0.05]]], [[[1.0, 2.7]]], [[[0.3, -1.2]]])
    x = torch.linspace(0, 10, 80, dtype=torch.float64)
    noise = 0.01 * torch.randn(80, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    y = aion(truth, x)[0] + noise
    start = AIONParams.from_values([[[0.8, 0.8]]], [[[0.0, 0.0]]], [[[1.1, 2.5]]], [[[0.0, 0.0]]])
    fast = fast_direct_solve(start, x, y)
    osborne = direct_solve(start, x, y)
    assert fast.status == ["converged"], fast.message
    assert float(parameter_error(fast.params, osborne.params)[0]) <= 1e-7


def test_batch_matches_single_problems():
    problems = [random_one_atom_problem(seed, noise=0.01 * (seed % 3), start_distance=0.1) for seed in range(8)]
    starts, _, y = stack_problems(problems)
    batched = fast_direct_solve(starts, problems[0].x, y)
    for index, problem in enumerate(problems):
        single = fast_direct_solve(problem.initial_params, problem.x, problem.y)
        assert batched.status[index] == single.status[0]
        assert int(batched.inner_iterations[index]) == int(single.inner_iterations[0])
        assert int(batched.linear_solves[index]) == int(single.linear_solves[0])
        torch.testing.assert_close(
            batched.params[index].to_vector(), single.params.to_vector(), rtol=1e-10, atol=1e-12
        )
        torch.testing.assert_close(batched.loss[index : index + 1], single.loss, rtol=1e-8, atol=1e-24)


def test_per_problem_grids_match_shared_grid():
    problems = [random_one_atom_problem(seed, noise=1e-3) for seed in range(4)]
    starts, _, y = stack_problems(problems)
    shared = fast_direct_solve(starts, problems[0].x, y)
    per_problem = fast_direct_solve(starts, problems[0].x.expand(4, -1, -1).contiguous(), y)
    assert per_problem.status == shared.status
    torch.testing.assert_close(per_problem.params.to_vector(), shared.params.to_vector(), rtol=1e-10, atol=1e-12)


def test_real_exponentials_are_reported_not_representable():
    x = torch.linspace(0, 5, 40, dtype=torch.float64)
    y = torch.exp(-0.3 * x) + 0.5 * torch.exp(-1.5 * x)
    start = AIONParams.from_values(1.0, -0.5, 0.5, 0.0)
    result = fast_direct_solve(start, x, y)
    assert result.status == ["not_representable"]
    assert "real roots" in result.message[0]
    assert float(result.delta.to_vector().abs().max()) == 0.0
    torch.testing.assert_close(result.params.to_vector(), start.to_vector(), rtol=0, atol=0)
    assert float(result.loss[0]) == float(result.loss_start[0])


def test_failed_problem_leaves_batch_neighbours_untouched():
    x = torch.linspace(0, 10, 64, dtype=torch.float64).unsqueeze(-1)
    good = random_one_atom_problem(3)
    bad_y = torch.exp(-0.3 * x[:, 0]) + 0.5 * torch.exp(-1.5 * x[:, 0])
    starts = AIONParams(*(torch.cat([t, t]) for t in good.initial_params.tensors()))
    result = fast_direct_solve(starts, x, torch.stack([good.y, bad_y]))
    assert result.status == ["converged", "not_representable"]
    assert float(parameter_error(result.params[0], good.true_params)[0]) <= 1e-8


def test_all_zero_data_is_degenerate():
    x = torch.linspace(0, 5, 40, dtype=torch.float64)
    result = fast_direct_solve(AIONParams.from_values(1.0, -0.5, 0.5, 0.0), x, torch.zeros_like(x))
    assert result.status == ["degenerate_polynomial"]
    assert float(result.delta.to_vector().abs().max()) == 0.0


def test_start_at_minimiser_reports_stalled():
    # ∇L(θ0) is at rounding level, so gtol · ‖∇L(θ0)‖ cannot be reached and the status reports it.
    problem = paper_test_problem()
    result = fast_direct_solve(problem.true_params, problem.x, problem.y)
    assert result.status == ["stalled"]
    assert "rounding floor" in result.message[0]
    assert float(result.delta.to_vector().abs().max()) == 0.0


def test_work_is_counted_per_problem():
    problems = [random_one_atom_problem(0), random_one_atom_problem(1, noise=1e-2)]
    starts, _, y = stack_problems(problems)
    result = fast_direct_solve(starts, problems[0].x, y)
    assert result.inner_iterations.tolist()[0] == 0
    assert result.inner_iterations.tolist()[1] >= 1
    # Linear prediction and amplitudes, plus at least one solve per Newton iteration.
    assert bool((result.linear_solves >= result.inner_iterations + 2).all())
    assert result.eig_solves.tolist() == [1, 1]
    assert result.wall_time_s > 0


def test_single_problem_report():
    problem = paper_test_problem()
    report = fast_infinite_descent(problem.initial_params, problem.x, problem.y)
    assert report.status == "converged"
    assert report.outer_iterations == 1
    assert report.grad_norm_rel <= 1e-10
    assert report.work.grad_evals == 2 + report.work.inner_iterations
    final = AIONParams.from_vector(report.theta, 1, 1, 1)
    assert float(parameter_error(final, problem.true_params)[0]) <= 1e-8


def test_single_problem_report_rejects_batches():
    params = AIONParams(*(torch.ones(2, 1, 1, 1, dtype=torch.float64) for _ in range(4)))
    x = torch.linspace(0, 1, 10, dtype=torch.float64)
    with pytest.raises(ValueError, match="batch of 2"):
        fast_infinite_descent(params, x, torch.zeros(10, dtype=torch.float64))


def test_newton_baseline_converges_from_near_start():
    problems = [random_one_atom_problem(seed, noise=1e-3, start_distance=0.01) for seed in range(8)]
    starts, _, y = stack_problems(problems)
    newton = newton_solve(starts, problems[0].x, y)
    fast = fast_direct_solve(starts, problems[0].x, y)
    assert newton.status == ["converged"] * 8
    assert bool((newton.grad_norm <= 1e-10 * newton.grad_norm_start).all())
    assert float(parameter_error(newton.params, fast.params).max()) <= 1e-7
    assert bool((newton.eig_solves == 0).all())


def test_non_uniform_grid_rejected():
    x = torch.linspace(0, 1, 20, dtype=torch.float64) ** 2
    with pytest.raises(ValueError, match="not a uniform grid"):
        fast_direct_solve(AIONParams.from_values(1.0, 0.0, 1.0, 0.0), x, torch.sin(x))


def test_two_dimensional_model_rejected():
    params = AIONParams(*(torch.ones(1, 1, 2, 1, dtype=torch.float64) for _ in range(4)))
    x = torch.rand(30, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="one input dimension, got d=2"):
        fast_direct_solve(params, x, torch.zeros(30, dtype=torch.float64))


def test_too_few_points_rejected():
    x = torch.linspace(0, 1, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match="at least 5 points"):
        fast_direct_solve(AIONParams.from_values(1.0, 0.0, 1.0, 0.0), x, torch.sin(x))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"gtol": 0.0}, "gtol must be positive"),
        ({"max_inner": 0}, "max_inner must be at least 1"),
        ({"max_halvings": -1}, "max_halvings must be non-negative"),
        ({"root_tol": -1.0}, "root_tol must be positive"),
    ],
)
def test_bad_options_rejected(options, message):
    problem = paper_test_problem()
    with pytest.raises(ValueError, match=message):
        fast_direct_solve(problem.initial_params, problem.x, problem.y, **options)


def test_non_params_rejected():
    x = torch.linspace(0, 1, 10, dtype=torch.float64)
    with pytest.raises(TypeError, match="params must be AIONParams"):
        fast_direct_solve(torch.ones(1, 4, dtype=torch.float64), x, torch.sin(x))


def test_step_on_every_device(device):
    problem = paper_test_problem(device=device)
    result = fast_direct_solve(problem.initial_params, problem.x, problem.y)
    assert result.status == ["converged"]
    assert result.params.device == problem.x.device
    error = parameter_error(result.params.to("cpu"), problem.true_params.to("cpu"))
    assert float(error[0]) <= 1e-8


def test_newton_baseline_names_its_iteration_cap():
    problem = paper_test_problem()
    with pytest.raises(ValueError, match="max_iterations must be at least 1, got 0"):
        newton_solve(problem.initial_params, problem.x, problem.y, max_iterations=0)


def test_float32_step_meets_loose_tolerance():
    problem = paper_test_problem(dtype=torch.float32)
    result = fast_direct_solve(problem.initial_params, problem.x, problem.y, gtol=1e-5)
    assert result.status == ["converged"], result.message
    assert result.params.dtype == torch.float32
    error = parameter_error(result.params.to(dtype=torch.float64), problem.true_params.to(dtype=torch.float64))
    assert float(error[0]) <= 1e-4


def test_decreasing_grid_recovered_exactly():
    problem = paper_test_problem()
    result = fast_direct_solve(problem.initial_params, problem.x.flip(0), problem.y.flip(0))
    assert result.status == ["converged"]
    assert float(parameter_error(result.params, problem.true_params)[0]) <= 1e-8


def test_single_problem_report_counts_line_search():
    problem = random_one_atom_problem(5, noise=1e-2)
    report = fast_infinite_descent(problem.initial_params, problem.x, problem.y)
    assert report.status == "converged"
    assert report.work.inner_iterations >= 1
    # At least one trial point per Newton iteration, more where the step was halved.
    assert report.work.loss_evals >= report.work.inner_iterations
