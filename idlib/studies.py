"""Studies beyond the paper: basins of attraction, cost against size, noise against the
Cramér–Rao bound, and the fit of a real signal.

Each function computes; the figures live in ``idlib.plotting_benchmarks`` and the story in
``notebooks/03_benchmarks.py``.
"""

from __future__ import annotations

import math
import statistics
import time

import torch

from .aion import AIONParams, aion, mse_loss
from .baselines import newton_cg
from .direct_solve import direct_solve, infinite_descent
from .fast_solve import fast_infinite_descent
from .jacobian import aion_jacobian
from .objective import AIONObjective
from .problems import Problem, parameter_error
from .real_data import periodogram_start, sunspot_series
from .strong_baselines import levenberg_marquardt, matrix_pencil_estimate, variable_projection
from .benchmark import start_grid

BASIN_TOLERANCE = 1e-6


def basin_map(
    problem: Problem, first: str, second: str, first_values: torch.Tensor, second_values: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Success of one step or one run from every start of a grid over two parameters.

    Starts vary ``first`` and ``second`` of the truth, the other parameters held at the truth.
    A start succeeds when the method ends with relative parameter error ≤ 1e-6 (canonical
    forms). Infinite Descent runs batched over the whole grid; Newton-CG and
    Levenberg–Marquardt run once per start.

    Returns a dict of boolean maps ``(n2, n1)`` keyed ``"ID"``, ``"NewtonCG"``, ``"LM"``.
    """
    starts = start_grid(problem, first, second, first_values, second_values)
    truth = problem.true_params
    count = starts.batch_size
    shape = (second_values.numel(), first_values.numel())

    solved = direct_solve(starts, problem.x, problem.y.expand(count, -1))
    error = parameter_error(solved.params, AIONParams(*(t.expand(count, -1, -1, -1) for t in truth.tensors())))
    maps = {"ID": ((error <= BASIN_TOLERANCE) & torch.tensor([s == "converged" for s in solved.status])).reshape(shape)}

    objective = AIONObjective(problem.x, problem.y, *problem.shape)
    for name, solver in (("NewtonCG", newton_cg), ("LM", levenberg_marquardt)):
        reached = torch.zeros(count, dtype=torch.bool)
        for index in range(count):
            theta0 = starts[index].to_vector()[0]
            try:
                report = solver(objective, theta0)
            except ValueError:
                continue
            final = AIONParams.from_vector(report.theta, *problem.shape)
            reached[index] = bool(parameter_error(final, truth)[0] <= BASIN_TOLERANCE)
        maps[name] = reached.reshape(shape)
    return maps


def _median_time(run, repeats: int) -> float:
    run()  # warm-up, untimed
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def cost_against_size(problem_factory, sizes: list[int], repeats: int = 3) -> list[dict]:
    """Median wall time of ID, Levenberg–Marquardt, variable projection and Newton-CG against N.

    ``problem_factory(N)`` returns a one-dimensional problem with N points on a uniform grid.
    Each method is timed ``repeats`` times after one warm-up run; all runs of one size happen
    back to back, so the ratios compare like with like.
    """
    rows = []
    for size in sizes:
        problem = problem_factory(size)
        objective = AIONObjective(problem.x, problem.y, *problem.shape)
        theta0 = problem.initial_params.to_vector()[0]
        runs = {
            "ID": lambda: infinite_descent(problem.initial_params, problem.x, problem.y),
            "LM": lambda: levenberg_marquardt(objective, theta0),
            "VarPro": lambda: variable_projection(objective, theta0),
            "NewtonCG": lambda: newton_cg(objective, theta0),
        }
        for method, run in runs.items():
            rows.append({"points": size, "method": method, "median_wall_time_s": _median_time(run, repeats)})
    return rows


def cramer_rao_bound(truth: AIONParams, x: torch.Tensor, noise_std: float) -> torch.Tensor:
    """Diagonal of the Cramér–Rao bound ``σ² (JᵀJ)⁻¹`` at the truth for white Gaussian noise, ``(4 r d P,)``.

    With Gaussian noise of standard deviation σ the least-squares fit is the maximum-likelihood
    estimate and the Fisher information is ``JᵀJ / σ²``, J the Jacobian of f at the truth.
    """
    jacobian = aion_jacobian(truth, x)[0]
    return noise_std**2 * torch.linalg.inv(jacobian.T @ jacobian).diagonal()


def noise_study(problem: Problem, noise_levels: list[float], realisations: int, seed: int = 0) -> list[dict]:
    """Empirical variance of ID, Levenberg–Marquardt and matrix-pencil estimates against the CRB.

    For each relative noise level, ``realisations`` noisy copies of the clean data (Gaussian,
    standard deviation ``level · std(f)``) are fitted from the problem's start; the variance of
    each parameter estimate over the successful fits is set beside the Cramér–Rao bound.
    """
    truth = problem.true_params
    clean = aion(truth, problem.x)[0]
    generator = torch.Generator().manual_seed(seed)
    names = truth.names()
    rows = []
    for level in noise_levels:
        sigma = level * float(clean.std())
        bound = cramer_rao_bound(truth, problem.x, sigma)
        noisy = clean + sigma * torch.randn(realisations, clean.numel(), generator=generator, dtype=clean.dtype)
        starts = AIONParams(*(t.expand(realisations, -1, -1, -1) for t in problem.initial_params.tensors()))
        estimates = {}
        solved = direct_solve(starts, problem.x, noisy)
        keep = torch.tensor([status == "converged" for status in solved.status])
        estimates["ID"] = solved.params.canonical().to_vector()[keep]
        pencil = matrix_pencil_estimate(problem.x, noisy, problem.shape[2], rank=problem.shape[0])
        pencil_theta = pencil.params.to_vector()
        valid = torch.isfinite(pencil_theta).all(dim=1)
        pencil_params = AIONParams.from_vector(torch.nan_to_num(pencil_theta, nan=0.0), *problem.shape).canonical()
        estimates["MatrixPencil"] = pencil_params.to_vector()[valid]
        fits = []
        for index in range(realisations):
            objective = AIONObjective(problem.x, noisy[index], *problem.shape)
            report = levenberg_marquardt(objective, problem.initial_params.to_vector()[0])
            if report.status == "converged":
                fits.append(AIONParams.from_vector(report.theta, *problem.shape).canonical().to_vector()[0])
        estimates["LM"] = torch.stack(fits) if fits else torch.empty(0, len(names), dtype=clean.dtype)
        for method, values in estimates.items():
            variance = values.var(dim=0) if values.shape[0] > 1 else torch.full((len(names),), math.nan, dtype=clean.dtype)
            for index, name in enumerate(names):
                rows.append({
                    "noise": level,
                    "method": method,
                    "parameter": name,
                    "fits": int(values.shape[0]),
                    "variance": float(variance[index]),
                    "crb": float(bound[index]),
                    "efficiency": float(bound[index] / variance[index]) if float(variance[index]) > 0 else math.nan,
                })
    return rows


def sunspot_fits(term_counts: list[int]) -> tuple[list[dict], dict]:
    """Fit the mean-removed sunspot series with P-term AIONs by both ID steps and three baselines.

    Every method starts from the periodogram start of ``real_data.periodogram_start``; the
    matrix pencil needs no start. Returns the table rows and, for plotting, the data and each
    method's fitted curve for the largest P.
    """
    years, counts = sunspot_series()
    centred = counts - counts.mean()
    rows, curves = [], {"years": years, "data": centred}
    variance = float(centred.var(unbiased=False))
    for terms in term_counts:
        start = periodogram_start(years, centred, terms)
        objective = AIONObjective(years, centred, 1, 1, terms)
        theta0 = start.to_vector()[0]
        reports = {
            "ID": infinite_descent(start, years, centred),
            "ID-fast": fast_infinite_descent(start, years, centred),
            "LM": levenberg_marquardt(objective, theta0),
            "VarPro": variable_projection(objective, theta0),
        }
        pencil = matrix_pencil_estimate(years, centred.unsqueeze(0), terms)
        start_loss = float(mse_loss(start, years, centred)[0])
        for method, report in reports.items():
            rows.append({
                "terms": terms,
                "method": method,
                "status": report.status,
                "outer_iterations": report.outer_iterations,
                "inner_iterations": report.work.inner_iterations,
                "start_loss": start_loss,
                "final_loss": report.final_loss,
                "explained_variance": 1 - report.final_loss / variance,
                "wall_time_s": report.wall_time_s,
            })
            if terms == max(term_counts):
                curves[method] = aion(AIONParams.from_vector(report.theta, 1, 1, terms), years)[0]
        pencil_theta = pencil.params.to_vector()[0]
        pencil_loss = (
            float(mse_loss(AIONParams.from_vector(pencil_theta, 1, 1, terms), years, centred)[0])
            if bool(torch.isfinite(pencil_theta).all()) else math.nan
        )
        rows.append({
            "terms": terms,
            "method": "MatrixPencil",
            "status": pencil.status[0],
            "outer_iterations": 1,
            "inner_iterations": 0,
            "start_loss": start_loss,
            "final_loss": pencil_loss,
            "explained_variance": 1 - pencil_loss / variance,
            "wall_time_s": pencil.wall_time_s,
        })
    return rows, curves
