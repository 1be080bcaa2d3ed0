"""Iterative baselines under one convergence criterion.

Every method stops as converged at the first iterate θ_k with

    ‖∇L(θ_k)‖₂ ≤ gtol · ‖∇L(θ_0)‖₂,

the same relative gradient test that ``SolverReport.grad_norm_rel`` reports for Infinite
Descent. The monitoring of this test reuses the gradient the method needs anyway (the
objective caches it), so it adds no counted work.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import scipy.optimize
import torch

from .objective import Objective
from .report import SolverReport


def _check_common(objective: Objective, gtol: float, max_iterations: int) -> None:
    if not isinstance(objective, Objective):
        raise TypeError(f"objective must be an idlib Objective, got {type(objective).__name__}")
    if not gtol > 0:
        raise ValueError(f"gtol must be positive, got {gtol}")
    if max_iterations < 1:
        raise ValueError(f"max_iterations must be at least 1, got {max_iterations}")


def steepest_descent(
    objective: Objective,
    theta0,
    *,
    gtol: float = 1e-10,
    max_iterations: int = 1000,
    initial_step: float = 1.0,
    max_step_length: float = 0.25,
    armijo: float = 1e-4,
    shrink: float = 0.5,
    max_backtracks: int = 60,
) -> SolverReport:
    """Steepest descent with Armijo backtracking.

    Update: ``θ_{k+1} = θ_k - t_k ∇L(θ_k)``. The trial step starts at twice the previous accepted
    step (``initial_step`` at k = 0), capped so that the move ``t ‖∇L‖`` is at most
    ``max_step_length`` in parameter space (without the cap the first steps of a far start leap
    across the landscape), and is multiplied by ``shrink`` until the Armijo condition
    ``L(θ_k - t ∇L) ≤ L(θ_k) - armijo · t ‖∇L(θ_k)‖²`` holds. Stops when the relative gradient
    norm reaches ``gtol`` (status ``"converged"``), after ``max_iterations`` updates
    (``"max_iterations"``), or when ``max_backtracks`` halvings find no decrease
    (``"line_search_failed"``).
    """
    _check_common(objective, gtol, max_iterations)
    if not (0 < armijo < 1 and 0 < shrink < 1 and initial_step > 0 and max_step_length > 0):
        raise ValueError(
            "need 0 < armijo < 1, 0 < shrink < 1, initial_step > 0 and max_step_length > 0; "
            f"got {armijo}, {shrink}, {initial_step}, {max_step_length}"
        )
    objective.reset_counts()
    start_time = time.perf_counter()
    theta = objective.check_start(theta0).clone()
    loss, gradient = objective.value_and_gradient(theta)
    path, losses, grad_norms = [theta.clone()], [loss], [float(gradient.norm())]
    threshold = gtol * grad_norms[0]
    status, message = "max_iterations", f"stopped after {max_iterations} iterations"
    step = initial_step
    iterations = 0
    while iterations < max_iterations:
        if grad_norms[-1] <= threshold:
            status, message = "converged", f"relative gradient norm ≤ {gtol:g}"
            break
        squared_norm = grad_norms[-1] ** 2
        step = 2 * step if iterations > 0 else initial_step
        step = min(step, max_step_length / grad_norms[-1])
        for _ in range(max_backtracks):
            trial_loss = objective.value(theta - step * gradient)
            objective.counts.inner_iterations += 1
            if trial_loss <= loss - armijo * step * squared_norm:
                break
            step *= shrink
        else:
            status, message = "line_search_failed", f"no Armijo decrease after {max_backtracks} backtracks"
            break
        theta = theta - step * gradient
        loss, gradient = objective.value_and_gradient(theta)
        iterations += 1
        path.append(theta.clone())
        losses.append(loss)
        grad_norms.append(float(gradient.norm()))
    else:
        if grad_norms[-1] <= threshold:
            status, message = "converged", f"relative gradient norm ≤ {gtol:g}"
    return SolverReport(
        method="Steepest Descent",
        theta=theta,
        status=status,
        message=message,
        outer_iterations=iterations,
        work=replace(objective.counts),
        wall_time_s=time.perf_counter() - start_time,
        path=path,
        losses=losses,
        grad_norms=grad_norms,
    )


def newton_cg(
    objective: Objective,
    theta0,
    *,
    gtol: float = 1e-10,
    max_iterations: int = 1000,
    xtol: float = 1e-14,
) -> SolverReport:
    """Newton conjugate gradient through ``scipy.optimize.minimize(method="Newton-CG")``.

    Exact gradients and Hessian-vector products come from torch. scipy solves the Newton system
    by truncated CG (one Hessian-vector product per inner iteration) and takes a Wolfe line
    search. Stops at the shared criterion (relative gradient norm ≤ ``gtol``, checked in the
    callback), at scipy's own rule ``‖θ_{k+1} - θ_k‖₁ ≤ n · xtol`` (``xtol`` is set tiny by
    default so the shared criterion decides), or after ``max_iterations`` outer iterations.
    ``outer_iterations`` is scipy's ``nit``; ``inner_iterations`` counts the CG iterations.
    Status ``"stalled"`` means scipy's step rule stopped the run first, which also happens when
    its CG loop returns a zero step because the curvature ``pᵀ ∇²L p`` of the (small) search
    direction falls below ``3 eps`` in absolute terms (scipy 1.17, ``_minimize_newtoncg``).
    """
    _check_common(objective, gtol, max_iterations)
    objective.reset_counts()
    start_time = time.perf_counter()
    theta = objective.check_start(theta0).clone()
    loss, gradient = objective.value_and_gradient(theta)
    path, losses, grad_norms = [theta.clone()], [loss], [float(gradient.norm())]
    threshold = gtol * grad_norms[0]

    def to_tensor(values):
        return torch.as_tensor(np.asarray(values), dtype=objective.dtype, device=objective.device)

    def fun(values):
        return objective.value(to_tensor(values))

    def jac(values):
        return objective.gradient(to_tensor(values)).cpu().numpy()

    def hessp(values, vector):
        objective.counts.inner_iterations += 1
        return objective.hvp(to_tensor(values), to_tensor(vector)).cpu().numpy()

    def callback(intermediate_result):
        point = to_tensor(intermediate_result.x)
        value, point_gradient = objective.value_and_gradient(point)
        path.append(point.clone())
        losses.append(value)
        grad_norms.append(float(point_gradient.norm()))
        if grad_norms[-1] <= threshold:
            raise StopIteration

    result = scipy.optimize.minimize(
        fun,
        theta.cpu().numpy(),
        jac=jac,
        hessp=hessp,
        method="Newton-CG",
        callback=callback,
        options={"xtol": xtol, "maxiter": max_iterations},
    )
    if grad_norms[-1] <= threshold:
        status, message = "converged", f"relative gradient norm ≤ {gtol:g}"
    elif result.status == 1:
        status, message = "max_iterations", f"stopped after {max_iterations} iterations"
    elif result.status == 0:
        # scipy's CG loop also exits with a zero step when pᵀ ∇²L p ≤ 3 eps in absolute terms,
        # which a small gradient triggers; the step rule then ends the run.
        status, message = "stalled", (
            f"scipy stopped on its step rule (‖Δθ‖₁ ≤ n·{xtol:g}) before the gradient test was met"
        )
    else:
        status, message = "failed", f"scipy Newton-CG: {result.message}"
    return SolverReport(
        method="Newton-CG",
        theta=path[-1],
        status=status,
        message=message,
        outer_iterations=int(result.nit),
        work=replace(objective.counts),
        wall_time_s=time.perf_counter() - start_time,
        path=path,
        losses=losses,
        grad_norms=grad_norms,
    )
