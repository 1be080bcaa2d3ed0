"""Steepest descent and Newton-CG on problems with known minimisers, and the objective's derivatives."""

import numpy as np
import pytest
import scipy.optimize
import torch

from idlib.aion import AIONParams
from idlib.baselines import newton_cg, steepest_descent
from idlib.objective import AIONObjective, QuadraticObjective
from idlib.problems import paper_test_problem, parameter_error


def quadratic(seed=0, size=5, condition=30.0):
    generator = torch.Generator().manual_seed(seed)
    basis, _ = torch.linalg.qr(torch.randn(size, size, generator=generator, dtype=torch.float64))
    eigenvalues = torch.logspace(0, np.log10(condition), size, dtype=torch.float64)
    hessian = basis @ torch.diag(eigenvalues) @ basis.T
    minimiser = torch.randn(size, generator=generator, dtype=torch.float64)
    return QuadraticObjective(hessian, minimiser), torch.zeros(size, dtype=torch.float64)


def test_steepest_descent_finds_quadratic_minimiser():
    objective, start = quadratic()
    report = steepest_descent(objective, start, gtol=1e-10, max_iterations=5000)
    assert report.status == "converged"
    torch.testing.assert_close(report.theta, objective.minimiser, rtol=0, atol=1e-8)
    assert report.grad_norm_rel <= 1e-10


def test_steepest_descent_counts_its_work():
    objective, start = quadratic()
    report = steepest_descent(objective, start, gtol=1e-10, max_iterations=5000)
    assert report.work.grad_evals == report.outer_iterations + 1
    assert report.work.loss_evals == report.work.inner_iterations >= report.outer_iterations
    assert len(report.path) == report.outer_iterations + 1


def test_steepest_descent_stops_at_cap():
    objective, start = quadratic(condition=1e4)
    report = steepest_descent(objective, start, gtol=1e-14, max_iterations=7)
    assert report.status == "max_iterations"
    assert report.outer_iterations == 7


def test_steepest_descent_step_is_capped():
    objective, start = quadratic()
    report = steepest_descent(objective, start, max_step_length=0.01, max_iterations=3)
    moves = [float((b - a).norm()) for a, b in zip(report.path, report.path[1:])]
    assert max(moves) <= 0.01 * (1 + 1e-12)


def test_newton_cg_finds_quadratic_minimiser():
    objective, start = quadratic()
    report = newton_cg(objective, start)
    assert report.status == "converged"
    torch.testing.assert_close(report.theta, objective.minimiser, rtol=0, atol=1e-10)
    # scipy truncates CG at a relative residual of min(0.5, sqrt(‖g‖₁)), so early steps are inexact.
    assert report.outer_iterations <= 10


def test_newton_cg_counts_match_scipy():
    problem = paper_test_problem()
    objective = AIONObjective(problem.x, problem.y)
    start = problem.initial_params.to_vector()[0]
    report = newton_cg(objective, start, gtol=1e-300, max_iterations=6)
    reference = scipy.optimize.minimize(
        lambda t: float(objective.value(torch.as_tensor(t))),
        start.numpy(),
        jac=lambda t: objective.gradient(torch.as_tensor(t)).numpy(),
        hessp=lambda t, v: objective.hvp(torch.as_tensor(t), torch.as_tensor(v)).numpy(),
        method="Newton-CG",
        options={"xtol": 1e-14, "maxiter": 6},
    )
    assert report.outer_iterations == reference.nit == 6
    assert report.work.hvp_evals == report.work.inner_iterations == reference.nhev
    np.testing.assert_allclose(report.theta.numpy(), reference.x, rtol=1e-12, atol=1e-14)


def test_newton_cg_reaches_test_problem_minimum():
    problem = paper_test_problem()
    objective = AIONObjective(problem.x, problem.y)
    report = newton_cg(objective, problem.initial_params.to_vector()[0])
    final = AIONParams.from_vector(report.theta, 1, 1, 1)
    assert report.status == "converged"
    assert float(parameter_error(final, problem.true_params)[0]) <= 1e-8


def test_objective_hvp_matches_finite_differences():
    problem = paper_test_problem()
    objective = AIONObjective(problem.x, problem.y)
    theta = problem.initial_params.to_vector()[0]
    vector = torch.tensor([0.3, -0.2, 0.5, 1.0], dtype=torch.float64)
    step = 1e-6
    difference = (objective.gradient(theta + step * vector) - objective.gradient(theta - step * vector)) / (2 * step)
    torch.testing.assert_close(objective.hvp(theta, vector), difference, rtol=1e-6, atol=1e-9)


def test_objective_gradient_cache_counts_once():
    problem = paper_test_problem()
    objective = AIONObjective(problem.x, problem.y)
    theta = problem.initial_params.to_vector()[0]
    objective.gradient(theta)
    objective.gradient(theta.clone())
    assert objective.counts.grad_evals == 1


def test_objective_rejects_wrong_length():
    problem = paper_test_problem()
    objective = AIONObjective(problem.x, problem.y)
    with pytest.raises(ValueError, match="3 entries"):
        objective.value(torch.zeros(3, dtype=torch.float64))


def test_solvers_reject_nonpositive_gtol():
    objective, start = quadratic()
    with pytest.raises(ValueError, match="gtol must be positive"):
        steepest_descent(objective, start, gtol=0.0)
    with pytest.raises(ValueError, match="gtol must be positive"):
        newton_cg(objective, start, gtol=-1.0)


def test_solvers_reject_non_objective():
    with pytest.raises(TypeError, match="idlib Objective"):
        newton_cg(lambda t: t, torch.zeros(2, dtype=torch.float64))
