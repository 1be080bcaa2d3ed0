"""Strong baselines for AION fits: L-BFGS, Levenberg–Marquardt, Adam, variable projection, matrix pencil.

These are the methods an expert would try on a sum of damped cosines before a new one. Every
function returns an ``idlib.report.SolverReport`` with the final flat θ (``AIONParams.to_vector``
order), a status and message, the outer iterations, all counted work, the wall time and the
path of iterates with their losses and gradient norms.

Loss and convergence criterion
------------------------------
All methods fit the mean squared error of ``idlib.aion.mse_loss``,

    L(θ) = (1/N) Σ_n r_n(θ)²,    r_n(θ) = f(x_n; θ) - y_n,

and the iterative ones stop as converged at the first iterate θ_k with

    ‖∇L(θ_k)‖₂ ≤ gtol · ‖∇L(θ_0)‖₂,    gtol = 1e-10 by default,

the criterion shared with ``idlib.baselines`` and Infinite Descent. Each method's own stopping
rules are set so tight that this test decides wherever the method can reach it. A run that a
method's own rule ends first has status ``"stalled"``.

The methods
-----------
``lbfgs``
    Limited-memory BFGS through ``scipy.optimize.minimize(method="L-BFGS-B")``, no bounds.
``levenberg_marquardt``
    MINPACK's Levenberg–Marquardt through ``scipy.optimize.least_squares(method="lm")`` with the
    closed-form Jacobian of ``idlib.jacobian``.
``adam``
    ``torch.optim.Adam`` on L with a fixed learning rate and an iteration cap.
``variable_projection``
    Golub–Pereyra variable projection with Levenberg–Marquardt on the rates and frequencies
    (module ``idlib.variable_projection``).
``matrix_pencil`` and ``matrix_pencil_estimate``
    The one-shot Hua–Sarkar estimator for uniform grids, batched (module ``idlib.matrix_pencil``).
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import scipy.optimize
import torch

from ._solver_common import (
    check_aion_objective,
    check_count,
    check_objective,
    check_positive,
    criterion_message,
    tensor_from_numpy,
)
from .aion import AIONParams, aion
from .data import check_exponent_range
from .jacobian import aion_jacobian, aion_residual_and_jacobian
from .matrix_pencil import MatrixPencilResult, matrix_pencil, matrix_pencil_estimate
from .objective import AIONObjective, Objective
from .report import SolverReport
from .variable_projection import variable_projection

__all__ = [
    "MatrixPencilResult",
    "adam",
    "aion_jacobian",
    "aion_residual_and_jacobian",
    "lbfgs",
    "levenberg_marquardt",
    "matrix_pencil",
    "matrix_pencil_estimate",
    "variable_projection",
]

MACHINE_EPSILON = float(np.finfo(np.float64).eps)


def lbfgs(
    objective: Objective,
    theta0,
    *,
    gtol: float = 1e-10,
    max_iterations: int = 1000,
    memory: int = 10,
    max_evaluations: int | None = None,
) -> SolverReport:
    """Minimise L by L-BFGS through ``scipy.optimize.minimize(method="L-BFGS-B")``.

    The update is ``θ_{k+1} = θ_k - t_k H_k ∇L(θ_k)``, where ``H_k`` is the limited-memory BFGS
    approximation of the inverse Hessian built from the last ``memory`` pairs
    ``(θ_{i+1} - θ_i, ∇L(θ_{i+1}) - ∇L(θ_i))`` and ``t_k`` satisfies the strong Wolfe
    conditions (J. Nocedal and S. J. Wright, "Numerical Optimization", 2nd ed., Springer 2006,
    section 7.2). Without bounds L-BFGS-B is this method. Gradients come from torch through
    ``objective``.

    Parameters
    ----------
    objective : Objective
        The loss, for example ``AIONObjective(x, y, rank, dim, terms)``.
    theta0 : tensor, array or list
        Start θ_0, flat, ``objective.n_params`` entries.
    gtol : float
        Stop as ``"converged"`` when ``‖∇L(θ_k)‖₂ ≤ gtol ‖∇L(θ_0)‖₂`` (checked in scipy's callback
        after every iteration).
    max_iterations : int
        Cap on scipy's iterations ``nit`` (status ``"max_iterations"``).
    memory : int
        Number of stored correction pairs (scipy's ``maxcor``).
    max_evaluations : int, optional
        Cap on loss-and-gradient evaluations (scipy's ``maxfun``); default ``20 max_iterations``.
        Reaching it gives status ``"max_evaluations"``.

    Returns
    -------
    SolverReport
        ``outer_iterations`` is scipy's ``nit``. ``work.grad_evals`` equals scipy's ``nfev``
        because every evaluation returns L and ∇L together, and ``inner_iterations`` counts the
        line-search trial evaluations, ``nfev - 1``. scipy's own tests (projected gradient
        ``≤ 0``, relative decrease of L ``≤ 0``) are switched off, so they end a run only
        when L-BFGS-B can make no progress at all (status ``"stalled"``). Status
        ``"line_search_failed"`` means that, in addition, some line-search trial gave a NaN or
        infinite L or ∇L (an overflowing ``exp(α x)`` after a long trial step, for example).

    Notes
    -----
    NOTE: the small dense factorisations inside L-BFGS-B's compact representation (size at most
    ``2 memory``) happen in Fortran and are not counted in ``linear_solves``.
    """
    check_objective(objective)
    gtol = check_positive("gtol", gtol)
    max_iterations = check_count("max_iterations", max_iterations)
    memory = check_count("memory", memory)
    max_evaluations = 20 * max_iterations if max_evaluations is None else check_count("max_evaluations", max_evaluations)

    objective.reset_counts()
    start_time = time.perf_counter()
    theta = objective.as_parameter(theta0).clone()
    loss, gradient = objective.value_and_gradient(theta)
    path, losses, grad_norms = [theta.clone()], [loss], [float(gradient.norm())]
    threshold = gtol * grad_norms[0]

    def finish(status: str, message: str, iterations: int) -> SolverReport:
        work = replace(objective.counts, inner_iterations=max(objective.counts.grad_evals - 1, 0))
        return SolverReport(
            method="L-BFGS",
            theta=path[-1],
            status=status,
            message=message,
            outer_iterations=iterations,
            work=work,
            wall_time_s=time.perf_counter() - start_time,
            path=path,
            losses=losses,
            grad_norms=grad_norms,
        )

    if grad_norms[0] <= threshold:
        return finish("converged", f"the start already meets the criterion, {criterion_message(gtol)}", 0)

    non_finite_trials = 0

    def loss_and_gradient(values):
        nonlocal non_finite_trials
        value, point_gradient = objective.value_and_gradient(tensor_from_numpy(values, objective))
        if not (np.isfinite(value) and bool(torch.isfinite(point_gradient).all())):
            non_finite_trials += 1
        return value, point_gradient.cpu().numpy()

    def callback(intermediate_result):
        # L-BFGS-B calls back at the last point it evaluated, so the objective returns its cached gradient.
        point = tensor_from_numpy(intermediate_result.x, objective)
        value, point_gradient = objective.value_and_gradient(point)
        path.append(point.clone())
        losses.append(value)
        grad_norms.append(float(point_gradient.norm()))
        if grad_norms[-1] <= threshold:
            raise StopIteration

    result = scipy.optimize.minimize(
        loss_and_gradient,
        theta.cpu().numpy(),
        jac=True,
        method="L-BFGS-B",
        callback=callback,
        options={"maxcor": memory, "maxiter": max_iterations, "maxfun": max_evaluations, "ftol": 0.0, "gtol": 0.0},
    )
    if grad_norms[-1] <= threshold:
        status, message = "converged", criterion_message(gtol)
    elif int(result.nit) >= max_iterations:
        status, message = "max_iterations", f"stopped after {max_iterations} iterations"
    elif int(result.nfev) >= max_evaluations:
        status, message = "max_evaluations", f"stopped after {max_evaluations} loss-and-gradient evaluations"
    elif non_finite_trials:
        status, message = "line_search_failed", (
            f"scipy L-BFGS-B stopped at relative gradient norm {grad_norms[-1] / grad_norms[0]:.3g} > {gtol:g} "
            f"({result.message}) after {non_finite_trials} line-search trial(s) where L or ∇L was NaN or "
            "infinite, for example because exp(alpha * x) overflowed; start closer to the data's rates and frequencies"
        )
    else:
        status, message = "stalled", (
            f"scipy L-BFGS-B stopped at relative gradient norm {grad_norms[-1] / grad_norms[0]:.3g} > {gtol:g} "
            f"({result.message}); this typically happens near a minimum with L > 0, where the decrease "
            "of L per step falls below the rounding of L"
        )
    return finish(status, message, int(result.nit))


class _CriterionMet(Exception):
    """Raised inside the Jacobian callback to end MINPACK's run once the shared criterion holds."""


def levenberg_marquardt(
    objective: AIONObjective,
    theta0,
    *,
    gtol: float = 1e-10,
    max_evaluations: int | None = None,
    ftol: float = MACHINE_EPSILON,
    xtol: float = MACHINE_EPSILON,
) -> SolverReport:
    """Fit an AION model by Levenberg–Marquardt through ``scipy.optimize.least_squares(method="lm")``.

    MINPACK's ``lmder`` minimises ``½ Σ_n r_n(θ)²`` with ``r = f - y``. That is ``(N/2) L``, a
    constant multiple of the mean squared error, so both have the same minimisers and stationary
    points, and ``∇L = (2/N) Jᵀ r``. Each iteration solves the damped Gauss–Newton problem

        min_δ ‖J δ + r‖² subject to ‖D δ‖ ≤ Δ,

    that is ``(JᵀJ + λ DᵀD) δ = -Jᵀ r`` for the λ that matches the trust radius Δ, with the
    scaling ``D`` taken from the column norms of J and λ found by Hebden's iteration (J. J. Moré,
    "The Levenberg–Marquardt algorithm: implementation and theory", Lecture Notes in
    Mathematics 630, Springer 1978, sections 2 and 5). The Jacobian ``J = ∂f/∂θ`` is the closed
    form of ``idlib.jacobian.aion_jacobian``.

    Parameters
    ----------
    objective : AIONObjective
        Data and model shape; only its ``x``, ``y``, ``rank``, ``dim`` and ``terms`` are used.
    theta0 : tensor, array or list
        Start θ_0, flat.
    gtol : float
        Stop as ``"converged"`` when ``‖∇L(θ_k)‖₂ ≤ gtol ‖∇L(θ_0)‖₂``. MINPACK offers no callback,
        so the test runs inside the Jacobian function at every Jacobian point, which MINPACK
        visits once per accepted step, and ends the run from there.
    max_evaluations : int, optional
        Cap on residual evaluations (scipy's ``max_nfev``, default ``100 n``); status
        ``"max_evaluations"``.
    ftol, xtol : float
        MINPACK's relative reduction and step tests, by default machine epsilon (the smallest
        scipy accepts) so that the shared criterion decides; MINPACK's own gradient test is set
        to machine epsilon as well. A run that one of them ends first has status ``"stalled"``.

    Returns
    -------
    SolverReport
        ``loss_evals`` counts the residual evaluations that ran. scipy's ``nfev`` counts
        MINPACK's requests, including repeats of an earlier point that scipy serves from its
        cache (MINPACK requests θ_0 twice, and a trial step that rounds to the current point
        repeats it), so ``loss_evals ≤ nfev``. Likewise ``jacobian_evals`` is scipy's ``njev``
        plus one when scipy evaluates J once more at the final point for its result object.
        ``outer_iterations`` counts the accepted steps (the distinct Jacobian points after θ_0).
        ``inner_iterations`` counts MINPACK's trial steps, ``nfev - 1``, and ``linear_solves``
        one QR factorisation per Jacobian MINPACK used (``njev``) plus one damped solve per
        trial step. When the shared criterion ends the run, scipy returns no counts, and the
        same quantities come from the evaluations seen here.

    Notes
    -----
    NOTE: MINPACK's ``lmpar`` may re-solve the damped system several times per trial step while
    it tunes λ. Those solves happen in compiled code and are not visible, so ``linear_solves``
    is a lower bound. So is ``inner_iterations`` when the shared criterion ends the run and a
    trial repeated an earlier point exactly.
    """
    check_aion_objective(objective, "levenberg_marquardt")
    gtol = check_positive("gtol", gtol)
    if max_evaluations is not None:
        max_evaluations = check_count("max_evaluations", max_evaluations)
    for name, value in (("ftol", ftol), ("xtol", xtol)):
        if check_positive(name, value) < MACHINE_EPSILON:
            raise ValueError(f"{name} must be at least machine epsilon {MACHINE_EPSILON:.3g} for MINPACK, got {value!r}")

    objective.reset_counts()
    counts = objective.counts
    start_time = time.perf_counter()
    theta = objective.as_parameter(theta0).clone()
    start_params = objective.params(theta)
    check_exponent_range(start_params, objective.x, "theta0")
    n_points = objective.y.shape[1]
    shape = (objective.rank, objective.dim, objective.terms)

    path: list[torch.Tensor] = []
    losses: list[float] = []
    grad_norms: list[float] = []
    # MINPACK evaluates J only at accepted points. Their residual was computed as the last trial
    # or is MINPACK's best point so far, so remembering both avoids recomputing it.
    remembered: dict[str, tuple[torch.Tensor, torch.Tensor, float]] = {}
    threshold: list[float] = []
    returned_jacobians = 0

    def residual_at(point: torch.Tensor) -> torch.Tensor:
        counts.loss_evals += 1
        residual = (aion(AIONParams.from_vector(point, *shape), objective.x) - objective.y)[0]
        value = float(residual.pow(2).mean())
        remembered["last"] = (point.clone(), residual, value)
        best = remembered.get("best")
        if best is None or value <= best[2]:
            remembered["best"] = remembered["last"]
        return residual

    def residual_function(values):
        return residual_at(tensor_from_numpy(values, objective)).cpu().numpy()

    def jacobian_function(values):
        nonlocal returned_jacobians
        point = tensor_from_numpy(values, objective)
        counts.jacobian_evals += 1
        jacobian = aion_jacobian(AIONParams.from_vector(point, *shape), objective.x)[0]
        for entry in (remembered.get("last"), remembered.get("best")):
            if entry is not None and torch.equal(entry[0], point):
                residual, value = entry[1], entry[2]
                break
        else:
            residual = residual_at(point)
            value = remembered["last"][2]
        gradient_norm = float((2.0 / n_points) * (jacobian.T @ residual).norm())
        if not path or not torch.equal(path[-1], point):
            path.append(point.clone())
            losses.append(value)
            grad_norms.append(gradient_norm)
        if not threshold:
            threshold.append(gtol * gradient_norm)
        if gradient_norm <= threshold[0]:
            raise _CriterionMet
        returned_jacobians += 1
        return jacobian.cpu().numpy()

    result = None
    try:
        result = scipy.optimize.least_squares(
            residual_function,
            theta.cpu().numpy(),
            jac=jacobian_function,
            method="lm",
            ftol=ftol,
            xtol=xtol,
            gtol=MACHINE_EPSILON,
            max_nfev=max_evaluations,
        )
    except _CriterionMet:
        pass

    if result is not None and not torch.equal(path[-1], tensor_from_numpy(result.x, objective)):
        # NOTE: scipy 1.17 evaluates J at its final point, which records that point; this
        # branch only guards against a scipy that does not.
        final = tensor_from_numpy(result.x, objective)
        residual, jacobian = aion_residual_and_jacobian(objective.params(final), objective.x, objective.y)
        counts.loss_evals += 1
        counts.jacobian_evals += 1
        path.append(final.clone())
        losses.append(float(residual.pow(2).mean()))
        grad_norms.append(float((2.0 / n_points) * (jacobian[0].T @ residual[0]).norm()))
    if grad_norms[-1] <= threshold[0]:
        status, message = "converged", criterion_message(gtol)
    elif result.status == 0:
        status, message = "max_evaluations", f"stopped after {result.nfev} residual evaluations"
    else:
        relative = grad_norms[-1] / grad_norms[0]
        status, message = "stalled", (
            f"MINPACK stopped at relative gradient norm {relative:.3g} > {gtol:g}: {result.message}"
        )

    if result is None:
        trial_steps, factorisations = max(counts.loss_evals - 1, 0), returned_jacobians
    else:
        trial_steps, factorisations = int(result.nfev) - 1, int(result.njev)
    work = replace(counts, inner_iterations=trial_steps, linear_solves=factorisations + trial_steps)
    accepted_points = len(path)
    return SolverReport(
        method="Levenberg-Marquardt",
        theta=path[-1],
        status=status,
        message=message,
        outer_iterations=accepted_points - 1,
        work=work,
        wall_time_s=time.perf_counter() - start_time,
        path=path,
        losses=losses,
        grad_norms=grad_norms,
    )


def adam(
    objective: Objective,
    theta0,
    *,
    learning_rate: float = 1e-2,
    max_iterations: int = 10_000,
    gtol: float = 1e-10,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
) -> SolverReport:
    """Minimise L with ``torch.optim.Adam`` at a fixed learning rate.

    The update (D. P. Kingma and J. Ba, "Adam: a method for stochastic optimization",
    ICLR 2015, Algorithm 1) with ``g_k = ∇L(θ_k)`` is

        m_k = β₁ m_{k-1} + (1 - β₁) g_k,    v_k = β₂ v_{k-1} + (1 - β₂) g_k²,
        θ_{k+1} = θ_k - η (m_k / (1 - β₁^k)) / (sqrt(v_k / (1 - β₂^k)) + ε).

    The gradient is exact (full batch), so Adam here is a deterministic first-order method with
    a per-coordinate step size. Its steps have size about η in every coordinate until the
    moments shrink, so it approaches a minimum at a rate set by η. It often does not reach a
    relative gradient norm of 1e-10 within the cap. The report then has status
    ``"max_iterations"``, because the criterion is the same as for every other method.

    Parameters
    ----------
    objective : Objective
        The loss.
    theta0 : tensor, array or list
        Start θ_0, flat.
    learning_rate : float
        η, in units of θ per step; default 1e-2, no schedule.
    max_iterations : int
        Cap on Adam steps (status ``"max_iterations"``).
    gtol : float
        Stop as ``"converged"`` when ``‖∇L(θ_k)‖₂ ≤ gtol ‖∇L(θ_0)‖₂``.
    betas, eps : torch.optim.Adam's β₁, β₂ and ε.

    Returns
    -------
    SolverReport
        One gradient evaluation per step plus one at θ_0; status ``"diverged"`` when L or ∇L
        becomes NaN or infinite.
    """
    check_objective(objective)
    learning_rate = check_positive("learning_rate", learning_rate)
    max_iterations = check_count("max_iterations", max_iterations)
    gtol = check_positive("gtol", gtol)
    eps = check_positive("eps", eps)
    if len(betas) != 2 or not all(0 <= beta < 1 for beta in betas):
        raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")

    objective.reset_counts()
    start_time = time.perf_counter()
    parameter = objective.as_parameter(theta0).clone().requires_grad_(True)
    optimizer = torch.optim.Adam([parameter], lr=learning_rate, betas=tuple(betas), eps=eps)
    loss, gradient = objective.value_and_gradient(parameter.detach())
    path, losses, grad_norms = [parameter.detach().clone()], [loss], [float(gradient.norm())]
    threshold = gtol * grad_norms[0]
    status, message = "max_iterations", f"stopped after {max_iterations} iterations at learning rate {learning_rate:g}"
    iterations = 0
    while True:
        if grad_norms[-1] <= threshold:
            status, message = "converged", criterion_message(gtol)
            break
        if iterations >= max_iterations:
            break
        parameter.grad = gradient.clone()
        optimizer.step()
        iterations += 1
        loss, gradient = objective.value_and_gradient(parameter.detach())
        path.append(parameter.detach().clone())
        losses.append(loss)
        grad_norms.append(float(gradient.norm()))
        if not (np.isfinite(loss) and np.isfinite(grad_norms[-1])):
            status, message = "diverged", f"L or ∇L became non-finite at iteration {iterations}; lower learning_rate"
            break
    if status == "max_iterations":
        message += f"; relative gradient norm {grad_norms[-1] / grad_norms[0]:.3g} > {gtol:g}"
    return SolverReport(
        method="Adam",
        theta=path[-1],
        status=status,
        message=message,
        outer_iterations=iterations,
        work=replace(objective.counts),
        wall_time_s=time.perf_counter() - start_time,
        path=path,
        losses=losses,
        grad_norms=grad_norms,
    )
