"""Order-K descent: Newton at K = 1, convergence order K + 1, the test problem and the counts."""

import math

import pytest
import torch

from idlib.aion import AIONParams, mse_loss
from idlib.aion_tower import AIONTower
from idlib.order_k import harder_one_atom_problem, order_k_descent, order_k_study, shifted_cholesky
from idlib.problems import paper_test_problem, parameter_error
from idlib.tanh_models import tanh_unit_loss, tanh_unit
from idlib.taylor import AutogradTower, loglog_slope


def mse_loss_of(problem):
    def loss(theta):
        return mse_loss(AIONParams.from_vector(theta, 1, 1, 1), problem.x, problem.y)[0]

    return loss


def plain_newton(loss, theta0, gtol, max_iterations):
    """Newton's method written out: dense Hessian by autograd, one linear solve per step."""
    theta = theta0.clone()
    leaf = theta.clone().requires_grad_(True)
    gradient = torch.autograd.grad(loss(leaf), leaf)[0]
    threshold = gtol * float(gradient.norm())
    path = [theta.clone()]
    while float(gradient.norm()) > threshold and len(path) <= max_iterations:
        hessian = torch.autograd.functional.hessian(loss, theta)
        theta = theta - torch.linalg.solve(hessian, gradient)
        leaf = theta.clone().requires_grad_(True)
        gradient = torch.autograd.grad(loss(leaf), leaf)[0]
        path.append(theta.clone())
    return path


@pytest.mark.parametrize("tower_kind", ["closed_form", "autograd"])
def test_order_one_is_plain_newton_step_by_step(tower_kind, device):
    problem = paper_test_problem(device=device)
    loss = mse_loss_of(problem)
    offset = torch.tensor([0.08, 0.01, -0.02, 0.1], dtype=torch.float64, device=device)
    theta0 = problem.true_params.to_vector()[0] + offset
    tower = AIONTower(problem.x, problem.y) if tower_kind == "closed_form" else AutogradTower(loss)
    report = order_k_descent(tower, theta0, 1)
    reference = plain_newton(loss, theta0, 1e-10, 50)
    assert report.status == "converged"
    assert report.shifts == [0.0] * report.outer_iterations  # the Hessian stayed positive definite
    assert report.step_lengths == [1.0] * report.outer_iterations  # every full step was accepted
    assert len(report.path) == len(reference)
    for step, (ours, theirs) in enumerate(zip(report.path, reference)):
        torch.testing.assert_close(ours, theirs, rtol=1e-10, atol=1e-12, msg=f"iterate {step} differs")


@pytest.mark.parametrize("order", [1, 2, 3])
def test_order_k_reaches_the_test_problem_minimiser(order):
    problem = paper_test_problem()
    tower = AIONTower(problem.x, problem.y)
    report = order_k_descent(tower, problem.initial_params.to_vector()[0], order)
    final = AIONParams.from_vector(report.theta, 1, 1, 1)
    assert report.status == "converged", report.message
    assert report.grad_norm_rel <= 1e-10
    assert float(parameter_error(final, problem.true_params)[0]) <= 1e-8
    assert all(later <= earlier for earlier, later in zip(report.losses, report.losses[1:]))


@pytest.mark.parametrize("order", [1, 2, 3])
def test_one_step_error_shrinks_with_power_order_plus_one(order):
    problem = paper_test_problem()
    tower = AIONTower(problem.x, problem.y)
    truth = problem.true_params.to_vector()[0]
    direction = torch.tensor([0.7, 0.05, -0.1, 0.7], dtype=torch.float64)
    distances = [0.01, 0.02, 0.04]
    errors = []
    for distance in distances:
        report = order_k_descent(tower, truth + distance * direction, order, max_iterations=1)
        assert report.step_kinds == (["newton"] if order == 1 else ["order-K"])
        errors.append(float((report.theta - truth).norm()))
    assert abs(loglog_slope(distances, errors) - (order + 1)) <= 0.3, errors


@pytest.mark.parametrize("order", [1, 2, 3])
def test_work_counts_are_consistent(order):
    problem = paper_test_problem()
    tower = AIONTower(problem.x, problem.y)
    report = order_k_descent(tower, problem.initial_params.to_vector()[0], order)
    work, outer, size = report.work, report.outer_iterations, 4
    assert len(report.path) == len(report.losses) == len(report.grad_norms) == outer + 1
    assert len(report.step_kinds) == len(report.shifts) == len(report.step_lengths) == outer
    assert work.grad_evals == outer + 1
    assert work.loss_evals >= outer + 1
    # One Hessian per outer step and one Jacobian per inner iteration, n products each.
    assert work.hvp_evals == size * (outer + work.inner_iterations)
    assert work.linear_solves >= outer + work.inner_iterations
    if order == 1:
        assert work.inner_iterations == 0
        assert report.tower_evals == 0
        assert set(report.step_kinds) == {"newton"}
    else:
        assert report.tower_evals == outer + work.inner_iterations
        assert work.inner_iterations >= report.step_kinds.count("order-K")
    assert report.wall_time_s > 0


def test_generic_tower_descends_on_a_tanh_unit():
    x = torch.linspace(-2, 2, 30, dtype=torch.float64)
    truth = torch.tensor([1.0, 1.5, -0.3], dtype=torch.float64)
    loss = tanh_unit_loss(x, tanh_unit(truth, x))
    report = order_k_descent(loss, torch.tensor([0.8, 1.2, -0.1], dtype=torch.float64), 2)
    assert report.status == "converged"
    torch.testing.assert_close(report.theta, truth, rtol=1e-8, atol=1e-8)


def test_iteration_cap_is_reported():
    problem = paper_test_problem()
    report = order_k_descent(AIONTower(problem.x, problem.y), problem.initial_params.to_vector()[0], 2, max_iterations=1)
    assert report.status == "max_iterations"
    assert report.outer_iterations == 1


def test_shifted_cholesky_leaves_positive_definite_matrices_alone():
    matrix = torch.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=torch.float64)
    shift, factor, attempts = shifted_cholesky(matrix)
    assert shift == 0.0
    assert attempts == 1
    torch.testing.assert_close(factor @ factor.T, matrix)


@pytest.mark.parametrize(
    ("entries", "smallest_eigenvalue", "min_attempts"),
    [
        ([[1.0, 0.0], [0.0, -3.0]], -3.0, 1),  # a negative diagonal entry sets the first shift
        ([[1.0, 2.0], [2.0, 1.0]], -1.0, 2),  # positive diagonal: the unshifted attempt fails first
    ],
)
def test_shifted_cholesky_shifts_indefinite_matrices(entries, smallest_eigenvalue, min_attempts):
    matrix = torch.tensor(entries, dtype=torch.float64)
    shift, factor, attempts = shifted_cholesky(matrix)
    assert shift > -smallest_eigenvalue
    assert attempts >= min_attempts
    torch.testing.assert_close(factor @ factor.T, matrix + shift * torch.eye(2, dtype=torch.float64))


def test_order_k_study_rows():
    rows = order_k_study(paper_test_problem(), orders=(1, 2), warmup=False)
    assert [row["order"] for row in rows] == [1, 2, "inf"]
    assert all(row["status"] == "converged" for row in rows)
    assert rows[-1]["outer_iterations"] == 1
    assert rows[-1]["method"] == "Infinite Descent"
    assert rows[0]["inner_iterations"] == 0
    assert all(row["param_error_rel"] <= 1e-8 for row in rows)


def test_harder_problem_misses_the_frequency():
    harder = harder_one_atom_problem()
    start, truth = harder.initial_params.omega.item(), harder.true_params.omega.item()
    assert harder.name == "one_atom_seed7"
    assert 0.3 <= abs(start - truth) / truth <= 0.4
    assert abs(start - truth) * 10.0 / (2 * math.pi) > 2.5  # periods gained over the interval [0, 10]


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        ({"order": 0}, ValueError, "order must be at least 1"),
        ({"order": 2.0}, TypeError, "order"),
        ({"gtol": 0.0}, ValueError, "gtol"),
        ({"max_inner": 0}, ValueError, "max_inner"),
        ({"armijo": 1.5}, ValueError, "armijo"),
    ],
)
def test_order_k_descent_rejects_bad_options(arguments, error, match):
    problem = paper_test_problem()
    options = {"order": 2, **arguments}
    order = options.pop("order")
    with pytest.raises(error, match=match):
        order_k_descent(AIONTower(problem.x, problem.y), problem.initial_params.to_vector()[0], order, **options)


def test_order_k_descent_rejects_bad_tower_and_start():
    problem = paper_test_problem()
    with pytest.raises(TypeError, match="tower must provide"):
        order_k_descent(42, problem.initial_params.to_vector()[0], 1)
    with pytest.raises(ValueError, match="flat parameter vector"):
        order_k_descent(AIONTower(problem.x, problem.y), problem.initial_params.to_vector(), 1)


def test_non_finite_hessian_is_reported_as_status():
    class BrokenCurvature(AutogradTower):
        def truncated_jacobian(self, theta, delta, order):
            return torch.full((theta.numel(), theta.numel()), float("nan"), dtype=theta.dtype)

    report = order_k_descent(BrokenCurvature(lambda theta: (theta - 1).pow(4).sum()),
                             torch.zeros(2, dtype=torch.float64), 1)
    assert report.status == "non_finite_hessian"
    assert report.outer_iterations == 0
