"""Runs shared by the notebooks: every method on one problem, and the table built from it."""

from __future__ import annotations

from .aion import AIONParams
from .baselines import newton_cg, steepest_descent
from .direct_solve import infinite_descent
from .objective import AIONObjective
from .problems import Problem, parameter_error
from .report import SolverReport

# Iteration counts reported by the paper (arXiv:2510.05489, Figure 1) for its own test problem.
PAPER_ITERATIONS = {"Infinite Descent": 1, "Steepest Descent": 1000, "Newton-CG": 28}


def compare_methods(
    problem: Problem, *, gtol: float = 1e-10, max_iterations: int = 1000, warmup: bool = True
) -> dict[str, SolverReport]:
    """Run Infinite Descent, steepest descent and Newton-CG from the problem's start.

    All three use the loss of ``aion.mse_loss`` and the shared criterion: relative gradient norm
    at most ``gtol``; the iterative methods stop after ``max_iterations`` updates. With
    ``warmup`` each method runs once untimed first, so one-off costs (torch's first calls,
    scipy's imports) stay out of the reported wall times.
    """
    rank, dim, terms = problem.shape
    objective = AIONObjective(problem.x, problem.y, rank, dim, terms)
    theta0 = problem.initial_params.to_vector()[0]
    runs = {
        "Infinite Descent": lambda: infinite_descent(problem.initial_params, problem.x, problem.y),
        "Steepest Descent": lambda: steepest_descent(objective, theta0, gtol=gtol, max_iterations=max_iterations),
        "Newton-CG": lambda: newton_cg(objective, theta0, gtol=gtol, max_iterations=max_iterations),
    }
    reports = {}
    for method, run in runs.items():
        if warmup:
            run()
        reports[method] = run()
    return reports


def iteration_table(problem: Problem, reports: dict[str, SolverReport]) -> list[dict]:
    """One row per method: outer iterations beside the paper's, final accuracy and all work."""
    rank, dim, terms = problem.shape
    rows = []
    for method, report in reports.items():
        if problem.true_params is None:
            error = float("nan")
        else:
            final = AIONParams.from_vector(report.theta, rank, dim, terms).to(device=problem.true_params.device)
            error = float(parameter_error(final, problem.true_params)[0])
        work = report.work
        rows.append(
            {
                "method": method,
                "status": report.status,
                "outer_iterations": report.outer_iterations,
                "paper_iterations": PAPER_ITERATIONS.get(method, ""),
                "final_loss": report.final_loss,
                "final_grad_norm_rel": report.grad_norm_rel,
                "param_error_rel": error,
                "loss_evals": work.loss_evals,
                "grad_evals": work.grad_evals,
                "hvp_evals": work.hvp_evals,
                "linear_solves": work.linear_solves,
                "eig_solves": work.eig_solves,
                "inner_iterations": work.inner_iterations,
                "wall_time_s": report.wall_time_s,
            }
        )
    return rows
