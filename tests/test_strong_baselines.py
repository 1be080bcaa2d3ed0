"""L-BFGS, Levenberg–Marquardt, Adam, variable projection and the matrix pencil on problems with known solutions."""

import math

import numpy as np
import pytest
import scipy.optimize
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from idlib.aion import AIONParams, aion, mse_loss
from idlib.objective import AIONObjective, QuadraticObjective
from idlib.problems import Problem, paper_test_problem, parameter_error, random_one_atom_problem
from idlib.strong_baselines import (
    adam,
    aion_jacobian,
    aion_residual_and_jacobian,
    lbfgs,
    levenberg_marquardt,
    matrix_pencil,
    matrix_pencil_estimate,
    variable_projection,
)
from idlib.variable_projection import _project, projected_jacobian, projection_basis

ITERATIVE = {
    "lbfgs": lbfgs,
    "levenberg_marquardt": levenberg_marquardt,
    "variable_projection": variable_projection,
}


# Problems ---------------------------------------------------------------------------------


def objective_and_start(problem: Problem):
    rank, dim, terms = problem.shape
    return AIONObjective(problem.x, problem.y, rank, dim, terms), problem.initial_params.to_vector()[0]


def two_term_problem(noise: float = 0.0, seed: int = 0) -> Problem:
    """Two damped cosines at 2.9 and 5.5 cycles over [0, 15], well resolved, on 128 points."""
    truth = AIONParams.from_values(
        A=[[[1.0, 0.6]]], alpha=[[[-0.1, -0.05]]], omega=[[[1.2, 2.3]]], phi=[[[0.5, -1.0]]]
    )
    start = AIONParams.from_values(
        A=[[[0.9, 0.7]]], alpha=[[[-0.08, -0.06]]], omega=[[[1.17, 2.33]]], phi=[[[0.3, -0.8]]]
    )
    x = torch.linspace(0.0, 15.0, 128, dtype=torch.float64)
    clean = aion(truth, x)[0]
    generator = torch.Generator().manual_seed(seed)
    y = clean + noise * clean.std() * torch.randn(128, generator=generator, dtype=torch.float64)
    return Problem("two_term", x.unsqueeze(-1), y, truth, start, f"two-term test problem, noise {noise:g}")


def numpy_residual(theta: np.ndarray, x: np.ndarray, y: np.ndarray, terms: int) -> np.ndarray:
    A, alpha, omega, phi = theta.reshape(4, terms)
    return (A * np.exp(np.outer(x, alpha)) * np.cos(np.outer(x, omega) + phi)).sum(axis=1) - y


def numpy_jacobian(theta: np.ndarray, x: np.ndarray, y: np.ndarray, terms: int) -> np.ndarray:
    A, alpha, omega, phi = theta.reshape(4, terms)
    envelope = np.exp(np.outer(x, alpha))
    cosine = envelope * np.cos(np.outer(x, omega) + phi)
    sine = envelope * np.sin(np.outer(x, omega) + phi)
    return np.hstack([cosine, A * x[:, None] * cosine, -A * x[:, None] * sine, -A * sine])


def scipy_reference(problem: Problem) -> np.ndarray:
    """Least-squares fit in plain numpy by scipy's trust-region reflective method, from the problem's start."""
    terms = problem.shape[2]
    x, y = problem.x[:, 0].numpy(), problem.y.numpy()
    result = scipy.optimize.least_squares(
        numpy_residual,
        problem.initial_params.to_vector()[0].numpy(),
        jac=numpy_jacobian,
        args=(x, y, terms),
        method="trf",
        ftol=1e-15,
        xtol=1e-15,
        gtol=1e-15,
        max_nfev=2000,
    )
    return result.x


def error_to_truth(report, problem: Problem) -> float:
    rank, dim, terms = problem.shape
    final = AIONParams.from_vector(report.theta, rank, dim, terms)
    return float(parameter_error(final, problem.true_params)[0])


def error_to_reference(report, problem: Problem, reference: np.ndarray) -> float:
    rank, dim, terms = problem.shape
    final = AIONParams.from_vector(report.theta, rank, dim, terms)
    expected = AIONParams.from_vector(torch.as_tensor(reference), rank, dim, terms)
    return float(parameter_error(final, expected)[0])


# The closed-form Jacobian -----------------------------------------------------------------


@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (2, 1, 1, 3), (2, 2, 2, 3), (3, 3, 2, 2), (1, 2, 2, 1)])
def test_aion_jacobian_matches_autograd(shape, device):
    batch, rank, dim, terms = shape
    generator = torch.Generator().manual_seed(sum(shape))
    params = AIONParams(*(torch.randn(shape, generator=generator, dtype=torch.float64).to(device) for _ in range(4)))
    x = (3 * torch.rand(batch, 9, dim, generator=generator, dtype=torch.float64)).to(device)

    def model(vector):
        return aion(AIONParams.from_vector(vector, rank, dim, terms), x)

    full = torch.autograd.functional.jacobian(model, params.to_vector())  # (B, N, B, n)
    expected = torch.stack([full[b, :, b, :] for b in range(batch)])
    torch.testing.assert_close(aion_jacobian(params, x), expected, rtol=1e-12, atol=1e-12)


def test_aion_jacobian_shared_grid_broadcasts():
    generator = torch.Generator().manual_seed(1)
    params = AIONParams(*(torch.randn(3, 2, 2, 2, generator=generator, dtype=torch.float64) for _ in range(4)))
    x = torch.rand(7, 2, generator=generator, dtype=torch.float64)
    shared = aion_jacobian(params, x)
    per_problem = aion_jacobian(params, x.expand(3, 7, 2))
    assert shared.shape == (3, 7, 32)
    torch.testing.assert_close(shared, per_problem, rtol=0, atol=0)


def test_aion_jacobian_with_vanishing_factor():
    """A factor ψ that is exactly zero must not produce 0/0 in the other factors' derivatives."""
    params = AIONParams.from_values(A=[[[0.0], [1.5]]], alpha=[[[0.2], [-0.1]]], omega=[[[1.0], [2.0]]], phi=[[[0.3], [0.1]]])
    x = torch.rand(6, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    jacobian = aion_jacobian(params, x)
    full = torch.autograd.functional.jacobian(lambda v: aion(AIONParams.from_vector(v, 1, 2, 1), x), params.to_vector())
    assert bool(torch.isfinite(jacobian).all())
    torch.testing.assert_close(jacobian, full[:, :, 0, :], rtol=1e-12, atol=1e-14)


def test_residual_and_jacobian_give_mse_gradient():
    problem = paper_test_problem()
    residual, jacobian = aion_residual_and_jacobian(problem.initial_params, problem.x, problem.y)
    objective, start = objective_and_start(problem)
    gradient = (2.0 / residual.shape[1]) * (jacobian[0].T @ residual[0])
    torch.testing.assert_close(gradient, objective.gradient(start), rtol=1e-12, atol=1e-14)


def test_aion_jacobian_rejects_non_params():
    with pytest.raises(TypeError, match="params must be AIONParams"):
        aion_jacobian(torch.zeros(1, 4, dtype=torch.float64), torch.zeros(5, dtype=torch.float64))


# Known solutions, noise-free ---------------------------------------------------------------


@pytest.mark.parametrize("method", sorted(ITERATIVE))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_iterative_methods_recover_one_atom_truth(method, seed):
    problem = random_one_atom_problem(seed, start_distance=0.1)
    objective, start = objective_and_start(problem)
    report = ITERATIVE[method](objective, start)
    assert report.status == "converged", report.message
    assert report.grad_norm_rel <= 1e-10
    assert error_to_truth(report, problem) <= 1e-8


@pytest.mark.parametrize("method", sorted(ITERATIVE))
def test_iterative_methods_recover_two_term_truth(method):
    problem = two_term_problem()
    objective, start = objective_and_start(problem)
    report = ITERATIVE[method](objective, start)
    assert report.status == "converged", report.message
    assert error_to_truth(report, problem) <= 1e-8


@pytest.mark.parametrize("method", sorted(ITERATIVE))
def test_iterative_methods_match_scipy_on_noisy_data(method):
    problem = two_term_problem(noise=1e-2, seed=3)
    reference = scipy_reference(problem)
    objective, start = objective_and_start(problem)
    report = ITERATIVE[method](objective, start)
    # L-BFGS's line search can stop near 1e-9: there L changes by less than its rounding.
    assert report.grad_norm_rel <= 1e-8, report.message
    assert error_to_reference(report, problem, reference) <= 1e-7
    assert error_to_truth(report, problem) <= 1e-2


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 10**6), distance=st.sampled_from([0.03, 0.1]))
def test_one_atom_recovery_many_seeds(seed, distance):
    problem = random_one_atom_problem(seed, start_distance=distance)
    objective, start = objective_and_start(problem)
    for solver in (levenberg_marquardt, variable_projection):
        report = solver(objective, start)
        assert report.status == "converged", report.message
        assert error_to_truth(report, problem) <= 1e-8
    (estimate,) = matrix_pencil(problem.x, problem.y, 1, theta0=start)
    assert estimate.status == "converged"
    assert error_to_truth(estimate, problem) <= 1e-9


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matrix_pencil_recovers_one_atom_truth(seed):
    problem = random_one_atom_problem(seed)
    start = problem.initial_params.to_vector()
    (report,) = matrix_pencil(problem.x, problem.y, 1, theta0=start)
    assert report.status == "converged", report.message
    assert report.outer_iterations == 1
    assert error_to_truth(report, problem) <= 1e-10


def test_matrix_pencil_recovers_two_term_truth():
    problem = two_term_problem()
    (report,) = matrix_pencil(problem.x, problem.y, 2, theta0=problem.initial_params)
    assert report.status == "converged", report.message
    assert error_to_truth(report, problem) <= 1e-10
    # The start's slots are ordered by frequency, so the estimate keeps that order.
    final = AIONParams.from_vector(report.theta, 1, 1, 2)
    assert float(final.omega[0, 0, 0, 0]) < float(final.omega[0, 0, 0, 1])


def test_matrix_pencil_rank_two_model():
    """Two rank terms in one dimension are two damped cosines; each slot gets one."""
    truth = AIONParams.from_values(A=[[[1.0]], [[0.5]]], alpha=[[[-0.1]], [[0.02]]], omega=[[[2.0]], [[0.7]]], phi=[[[0.1]], [[1.0]]])
    x = torch.linspace(0.0, 12.0, 80, dtype=torch.float64)
    y = aion(truth, x)[0]
    result = matrix_pencil_estimate(x, y, 1, rank=2, slot_reference=truth)
    assert result.status == ["estimated"]
    assert float(parameter_error(result.params, truth)[0]) <= 1e-10


def test_matrix_pencil_noisy_not_stationary():
    problem = random_one_atom_problem(4, noise=1e-2)
    (report,) = matrix_pencil(problem.x, problem.y, 1, theta0=problem.initial_params)
    assert report.status == "not_stationary"
    assert report.outer_iterations == 1
    assert error_to_truth(report, problem) <= 1e-2
    assert report.grad_norm_rel > 1e-10


def test_matrix_pencil_without_start_is_estimated():
    problem = random_one_atom_problem(0)
    (report,) = matrix_pencil(problem.x, problem.y, 1)
    assert report.status == "estimated"
    assert len(report.path) == 1
    assert report.work.grad_evals == 1


# Batched matrix pencil ---------------------------------------------------------------------


def test_matrix_pencil_batched_equals_unbatched(device):
    problems = [random_one_atom_problem(seed, noise=noise, device=device) for seed, noise in [(0, 0.0), (1, 1e-2), (2, 1e-1), (5, 0.0)]]
    x = problems[0].x
    y = torch.stack([problem.y for problem in problems])
    batched = matrix_pencil_estimate(x, y, 1)
    for b, problem in enumerate(problems):
        single = matrix_pencil_estimate(problem.x, problem.y, 1)
        assert single.status == [batched.status[b]]
        for batched_tensor, single_tensor in zip(batched.params.tensors(), single.params.tensors()):
            torch.testing.assert_close(batched_tensor[b : b + 1], single_tensor, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(batched.singular_values[b], single.singular_values[0], rtol=1e-12, atol=1e-12)


def test_matrix_pencil_reports_per_problem():
    problems = [random_one_atom_problem(seed) for seed in range(3)]
    y = torch.stack([problem.y for problem in problems])
    starts = torch.cat([problem.initial_params.to_vector() for problem in problems])
    reports = matrix_pencil(problems[0].x, y, 1, theta0=starts)
    assert len(reports) == 3
    for report, problem in zip(reports, problems):
        assert report.status == "converged"
        assert error_to_truth(report, problem) <= 1e-10
        assert report.work.as_dict() == {
            "loss_evals": 0,
            "grad_evals": 2,
            "hvp_evals": 0,
            "linear_solves": 2,
            "eig_solves": 1,
            "inner_iterations": 0,
            "jacobian_evals": 0,
            "svds": 1,
        }


def test_matrix_pencil_pure_exponential_is_not_representable():
    x = torch.linspace(0.0, 5.0, 40, dtype=torch.float64)
    y = torch.stack([torch.exp(-0.3 * x) + 0.5 * torch.exp(-1.1 * x), torch.cos(1.3 * x)])
    result = matrix_pencil_estimate(x, y, 1)
    assert result.status == ["not_representable", "estimated"]
    assert bool(torch.isnan(result.params.A[0]).all())
    reports = matrix_pencil(x, y, 1)
    assert reports[0].outer_iterations == 0
    assert reports[1].outer_iterations == 1


def test_matrix_pencil_rejects_bad_inputs():
    x = torch.linspace(0.0, 5.0, 40, dtype=torch.float64)
    y = torch.cos(x)
    with pytest.raises(ValueError, match="not an increasing uniform grid"):
        matrix_pencil_estimate(x ** 2, y, 1)
    with pytest.raises(ValueError, match="pencil_parameter must lie in"):
        matrix_pencil_estimate(x, y, 1, pencil_parameter=39)
    with pytest.raises(ValueError, match="need at least 8"):
        matrix_pencil_estimate(x[:6], y[:6], 2)
    with pytest.raises(ValueError, match="terms must be an integer"):
        matrix_pencil_estimate(x, y, 0)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 1\)"):
        matrix_pencil_estimate(torch.stack([x, x], dim=1), y, 1)
    with pytest.raises(ValueError, match="theta0 must describe models of shape"):
        matrix_pencil(x, y, 1, theta0=torch.zeros(8, dtype=torch.float64))


def test_matrix_pencil_any_valid_pencil_parameter_is_exact():
    problem = random_one_atom_problem(3)
    for pencil_parameter in (2, 10, 21, 32, 62):
        result = matrix_pencil_estimate(problem.x, problem.y, 1, pencil_parameter=pencil_parameter)
        assert result.pencil_parameter == pencil_parameter
        assert float(parameter_error(result.params, problem.true_params)[0]) <= 1e-9


# Work counts against scipy's own -----------------------------------------------------------


def test_lbfgs_counts_match_scipy():
    problem = paper_test_problem()
    objective, start = objective_and_start(problem)
    report = lbfgs(objective, start, gtol=1e-300, max_iterations=8)
    reference = scipy.optimize.minimize(
        lambda t: (objective.value(torch.as_tensor(t)), objective.gradient(torch.as_tensor(t)).numpy()),
        start.numpy(),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 8, "maxcor": 10, "ftol": 0.0, "gtol": 0.0, "maxfun": 160},
    )
    assert report.status == "max_iterations"
    assert report.outer_iterations == reference.nit == 8
    assert report.work.grad_evals == reference.nfev
    assert report.work.inner_iterations == reference.nfev - 1
    assert len(report.path) == report.outer_iterations + 1
    np.testing.assert_allclose(report.theta.numpy(), reference.x, rtol=1e-13, atol=1e-15)


def test_levenberg_marquardt_counts_match_scipy():
    problem = two_term_problem(noise=1e-2, seed=3)
    objective, start = objective_and_start(problem)
    report = levenberg_marquardt(objective, start, gtol=1e-300)
    x, y = problem.x[:, 0].numpy(), problem.y.numpy()
    calls = {"residual": 0, "jacobian": 0}

    def residual(theta):
        calls["residual"] += 1
        return (aion(AIONParams.from_vector(torch.as_tensor(theta), 1, 1, 2), problem.x) - problem.y)[0].numpy()

    def jacobian(theta):
        calls["jacobian"] += 1
        return aion_jacobian(AIONParams.from_vector(torch.as_tensor(theta), 1, 1, 2), problem.x)[0].numpy()

    eps = np.finfo(float).eps
    reference = scipy.optimize.least_squares(residual, start.numpy(), jac=jacobian, method="lm", ftol=eps, xtol=eps, gtol=eps)
    assert report.status == "stalled"
    # nfev also counts MINPACK's repeated requests that scipy serves from its cache.
    assert report.work.loss_evals == calls["residual"] <= reference.nfev
    assert report.work.jacobian_evals == calls["jacobian"]
    assert reference.njev <= report.work.jacobian_evals <= reference.njev + 1
    assert report.work.inner_iterations == reference.nfev - 1
    assert report.work.linear_solves == reference.njev + reference.nfev - 1
    assert report.outer_iterations <= reference.njev
    np.testing.assert_allclose(report.theta.numpy(), reference.x, rtol=1e-13, atol=1e-15)
    # least_squares reports cost = ½ Σ r², which is (N/2) L.
    assert report.final_loss * len(x) / 2 == pytest.approx(reference.cost, rel=1e-12)
    assert numpy_residual(reference.x, x, y, 2) @ numpy_residual(reference.x, x, y, 2) / 2 == pytest.approx(reference.cost, rel=1e-10)


def test_lbfgs_reports_overflowing_line_search():
    """From this start scipy's first long trial step reaches alpha ≈ 122, where exp(alpha x) overflows."""
    problem = random_one_atom_problem(69, start_distance=0.03)
    objective, start = objective_and_start(problem)
    report = lbfgs(objective, start)
    assert report.status == "line_search_failed"
    assert "NaN or infinite" in report.message
    assert report.grad_norm_rel > 1e-3
    assert np.isfinite(report.final_loss)


def test_levenberg_marquardt_stops_at_evaluation_cap():
    problem = paper_test_problem()
    objective, start = objective_and_start(problem)
    report = levenberg_marquardt(objective, start, max_evaluations=3)
    assert report.status == "max_evaluations"
    assert report.work.loss_evals == 3


def test_adam_matches_the_stated_update():
    problem = paper_test_problem()
    objective, start = objective_and_start(problem)
    report = adam(objective, start, learning_rate=0.05, max_iterations=5, gtol=1e-300)
    theta = start.numpy().copy()
    first, second = np.zeros(4), np.zeros(4)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for k in range(1, 6):
        x, y = problem.x[:, 0].numpy(), problem.y.numpy()
        gradient = 2 * numpy_jacobian(theta, x, y, 1).T @ numpy_residual(theta, x, y, 1) / len(x)
        first = beta1 * first + (1 - beta1) * gradient
        second = beta2 * second + (1 - beta2) * gradient**2
        theta = theta - 0.05 * (first / (1 - beta1**k)) / (np.sqrt(second / (1 - beta2**k)) + eps)
        np.testing.assert_allclose(report.path[k].numpy(), theta, rtol=1e-10, atol=1e-12)
    assert report.status == "max_iterations"
    assert report.outer_iterations == 5
    assert report.work.grad_evals == 6


def test_adam_approaches_noisy_minimum():
    problem = random_one_atom_problem(2, noise=1e-2, start_distance=0.05)
    reference = scipy_reference(problem)
    objective, start = objective_and_start(problem)
    report = adam(objective, start, learning_rate=1e-2, max_iterations=1500)
    assert report.final_loss <= 1.01 * objective.value(torch.as_tensor(reference))
    assert error_to_reference(report, problem, reference) <= 1e-2


def test_variable_projection_counts_are_consistent():
    problem = two_term_problem()
    objective, start = objective_and_start(problem)
    report = variable_projection(objective, start)
    work = report.work
    assert report.status == "converged"
    accepted_steps = report.outer_iterations - 1  # the first update is the projection of the start
    assert work.grad_evals == len(report.path) == report.outer_iterations + 1
    assert work.loss_evals == 1 + work.inner_iterations
    assert work.linear_solves == work.loss_evals + work.inner_iterations
    assert work.jacobian_evals == accepted_steps
    assert work.inner_iterations >= accepted_steps


def test_variable_projection_first_update_is_the_projection():
    """With the true rates and frequencies the projection alone solves a noise-free problem."""
    problem = random_one_atom_problem(1)
    objective, _ = objective_and_start(problem)
    truth = problem.true_params
    start = AIONParams(truth.A * 1.7, truth.alpha, truth.omega, truth.phi + 0.4).to_vector()[0]
    report = variable_projection(objective, start)
    assert report.status == "converged"
    assert report.outer_iterations == 1
    assert report.work.jacobian_evals == 0


def test_variable_projection_rejects_degenerate_start():
    problem = two_term_problem()
    objective, start = objective_and_start(problem)
    params = AIONParams.from_vector(start, 1, 1, 2)
    first_term = (1, 1, 1, 2)
    same_frequency = AIONParams(
        params.A, params.alpha[..., :1].expand(first_term), params.omega[..., :1].expand(first_term), params.phi
    )
    report = variable_projection(objective, same_frequency.to_vector()[0])
    assert report.status == "rank_deficient"
    assert report.outer_iterations == 0
    zero_frequency = AIONParams(params.A, params.alpha, params.omega * torch.tensor([0.0, 1.0], dtype=torch.float64), params.phi)
    assert variable_projection(objective, zero_frequency.to_vector()[0]).status == "rank_deficient"


def test_variable_projection_handles_growing_and_decaying_terms():
    """Columns scaled by e^{±3x} on [0, 10] differ by about 1e26 in norm but are independent."""
    truth = AIONParams.from_values(A=[[[1.0, 1e-12]]], alpha=[[[-3.0, 3.0]]], omega=[[[1.0, 2.5]]], phi=[[[0.2, 0.4]]])
    x = torch.linspace(0.0, 10.0, 100, dtype=torch.float64)
    objective = AIONObjective(x, aion(truth, x)[0], terms=2)
    start = truth.to_vector()[0] + torch.tensor([0, 0, 1e-3, -1e-3, 1e-3, 1e-3, 0.1, 0.1], dtype=torch.float64)
    report = variable_projection(objective, start)
    assert report.status == "converged", report.message


# Variable projection's Jacobian ------------------------------------------------------------


def reduced_residual(eta, x, y):
    basis = projection_basis(eta, x)
    coefficients = torch.linalg.lstsq(basis, y[:, None]).solution[:, 0]
    return basis @ coefficients - y


@pytest.mark.parametrize("noise", [0.0, 0.1])
def test_projected_jacobian_matches_autograd(noise):
    problem = two_term_problem(noise=noise)
    x, y = problem.x[:, 0], problem.y
    eta = torch.tensor([-0.07, -0.03, 1.15, 2.4], dtype=torch.float64)
    point = _project(eta, x, y)
    expected = torch.autograd.functional.jacobian(lambda e: reduced_residual(e, x, y), eta)
    torch.testing.assert_close(projected_jacobian(point, x, "full"), expected, rtol=1e-9, atol=1e-10)
    kaufman = projected_jacobian(point, x, "kaufman")
    # Kaufman's approximation drops a term orthogonal to r, so the gradient Jᵀr is unchanged.
    torch.testing.assert_close(kaufman.T @ point.residual, expected.T @ point.residual, rtol=1e-9, atol=1e-10)
    if noise > 0:
        assert float((kaufman - expected).abs().max()) > 1e-6


def test_variable_projection_kaufman_converges():
    problem = two_term_problem(noise=1e-2, seed=3)
    reference = scipy_reference(problem)
    objective, start = objective_and_start(problem)
    report = variable_projection(objective, start, jacobian="kaufman")
    assert report.status == "converged", report.message
    assert error_to_reference(report, problem, reference) <= 1e-7


# Argument checks ---------------------------------------------------------------------------


def test_solvers_reject_nonpositive_gtol():
    problem = paper_test_problem()
    objective, start = objective_and_start(problem)
    for solver in (lbfgs, levenberg_marquardt, adam, variable_projection):
        with pytest.raises(ValueError, match="gtol must be a finite positive number"):
            solver(objective, start, gtol=0.0)
    with pytest.raises(ValueError, match="gtol must be a finite positive number"):
        matrix_pencil(problem.x, problem.y, 1, gtol=-1.0)


def test_least_squares_methods_need_aion_objective():
    quadratic = QuadraticObjective(torch.eye(4, dtype=torch.float64), torch.zeros(4, dtype=torch.float64))
    start = torch.ones(4, dtype=torch.float64)
    for solver in (levenberg_marquardt, variable_projection):
        with pytest.raises(TypeError, match="must be an AIONObjective"):
            solver(quadratic, start)
    report = lbfgs(quadratic, start)
    assert report.status == "converged"
    torch.testing.assert_close(report.theta, torch.zeros(4, dtype=torch.float64), rtol=0, atol=1e-10)


def test_variable_projection_rejects_two_dimensions():
    x = torch.rand(30, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    objective = AIONObjective(x, torch.zeros(30, dtype=torch.float64), dim=2)
    with pytest.raises(ValueError, match="one input dimension"):
        variable_projection(objective, torch.ones(8, dtype=torch.float64))


def test_levenberg_marquardt_rejects_tolerance_below_eps():
    problem = paper_test_problem()
    objective, start = objective_and_start(problem)
    with pytest.raises(ValueError, match="at least machine epsilon"):
        levenberg_marquardt(objective, start, ftol=1e-20)


def test_adam_rejects_bad_betas():
    problem = paper_test_problem()
    objective, start = objective_and_start(problem)
    with pytest.raises(ValueError, match="betas must be two numbers"):
        adam(objective, start, betas=(0.9, 1.0))


def test_start_at_minimum_takes_no_step():
    problem = paper_test_problem()
    objective, _ = objective_and_start(problem)
    truth = problem.true_params.to_vector()[0]
    for solver in (lbfgs, levenberg_marquardt, adam):
        report = solver(objective, truth)
        assert report.status == "converged"
        assert report.outer_iterations == 0


def test_two_dimensional_fit_by_levenberg_marquardt_and_lbfgs():
    truth = AIONParams.from_values(A=[[[1.2], [0.8]]], alpha=[[[-0.1], [0.05]]], omega=[[[1.1], [0.6]]], phi=[[[0.2], [-0.4]]])
    grid = torch.linspace(0.0, 6.0, 14, dtype=torch.float64)
    x = torch.cartesian_prod(grid, grid)
    y = aion(truth, x)[0]
    objective = AIONObjective(x, y, rank=1, dim=2, terms=1)
    start = truth.to_vector()[0] + torch.tensor([0.05, -0.05, 0.01, -0.01, 0.02, 0.01, 0.1, -0.1], dtype=torch.float64)
    for solver in (levenberg_marquardt, lbfgs):
        report = solver(objective, start)
        assert report.status == "converged", report.message
        assert float(mse_loss(AIONParams.from_vector(report.theta, 1, 2, 1), x, y)[0]) <= 1e-16
    assert math.isfinite(report.wall_time_s)
