"""Variable projection (Golub–Pereyra) for one-dimensional AION fits.

With one input dimension an AION model is a sum of ``m = r P`` damped cosines, and each term is
linear in two coefficients:

    A e^{αx} cos(ωx + φ) = a e^{αx} cos(ωx) + b (-e^{αx} sin(ωx)),    a = A cos φ,  b = A sin φ.

Collect the rates and frequencies in ``η = (α_1 … α_m, ω_1 … ω_m)`` and the coefficients in
``c = (a_1 … a_m, b_1 … b_m)``, so that ``f = Φ(η) c`` with the ``N × 2m`` basis matrix
``Φ[:, k] = e^{α_k x} cos(ω_k x)`` and ``Φ[:, m+k] = -e^{α_k x} sin(ω_k x)``. For fixed η the
best coefficients are ``c(η) = Φ⁺ y``, and the residual that remains is

    r(η) = Φ c(η) - y = -P⊥(η) y,    P⊥ = I - Φ Φ⁺.

Variable projection minimises the reduced functional ``½ ‖r(η)‖²`` over η alone; its
minimisers are exactly the minimisers of the full least-squares problem (G. H. Golub and
V. Pereyra, "The differentiation of pseudo-inverses and nonlinear least squares problems whose
variables separate", SIAM J. Numer. Anal. 10(2), 1973, section 2).

The Jacobian of the projected residual
--------------------------------------
Write ``D_i = ∂Φ/∂η_i``. Golub and Pereyra's formula (for Φ of full column rank) is

    ∂r/∂η_i = P⊥ D_i c - (Φ⁺)ᵀ D_iᵀ r.

Kaufman's approximation keeps only the first term (L. Kaufman, "A variable projection method
for solving separable nonlinear least squares problems", BIT 15, 1975). Both give the same
gradient ``Jᵀ r``, because the second term lies in the range of Φ and ``r`` is orthogonal to
it. They differ only in the Gauss–Newton matrix ``JᵀJ``. ``jacobian="full"`` (the default) uses
the exact Golub–Pereyra Jacobian and ``jacobian="kaufman"`` the approximation. With the thin
QR factorisation ``Φ = Q R``: ``P⊥ v = v - Q Qᵀ v`` and ``(Φ⁺)ᵀ w = Q R⁻ᵀ w``. Each η_i
changes only two columns of Φ, so ``D_i c`` and ``D_iᵀ r`` are cheap (O'Leary and Rust, below,
section 2, write out the same structure).

The outer iteration
-------------------
Levenberg–Marquardt with Marquardt's scaling on η: the trial step solves

    min_δ ‖J δ + r‖² + λ ‖S δ‖²,    S = diag(‖J[:, i]‖₂),

as the linear least-squares problem ``[J; sqrt(λ) S] δ = [-r; 0]``. The gain ratio
``ρ = (½‖r‖² - ½‖r(η+δ)‖²) / (½‖r‖² - ½‖r + Jδ‖²)`` decides: for ``ρ > 0`` the step is
accepted and ``λ ← λ max(1/3, 1 - (2ρ - 1)³)``, ``ν ← 2``; otherwise ``λ ← ν λ``,
``ν ← 2ν`` (H. B. Nielsen, "Damping parameter in Marquardt's method", report IMM-REP-1999-05,
Technical University of Denmark, 1999). The start is ``λ_0 = initial_damping``.

Stopping rule, on the full AION parameters θ(η) = (A, α, ω, φ) with A = hypot(a, b) and
φ = atan2(b, a):

    converged        ‖∇L(θ_k)‖₂ ≤ gtol ‖∇L(θ_0)‖₂
    max_iterations   ``max_iterations`` Levenberg–Marquardt steps accepted
    stalled          λ > 1e16 (no step decreases the loss) or ‖δ‖ ≤ eps (‖η‖ + eps)

Further reading: D. P. O'Leary and B. W. Rust, "Variable projection for nonlinear least
squares problems", Comput. Optim. Appl. 54, 2013.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from ._solver_common import check_aion_objective, check_count, check_positive, criterion_message
from .aion import AIONParams, wrap_phase
from .data import check_exponent_range
from .jacobian import aion_residual_and_jacobian
from .objective import AIONObjective
from .report import SolverReport, WorkCounts

JACOBIAN_KINDS = ("full", "kaufman")
MAX_DAMPING = 1e16


@dataclass
class _ProjectedPoint:
    """The reduced problem at one η: basis, its QR factors, coefficients and residual r = Φc - y."""

    eta: torch.Tensor
    basis: torch.Tensor
    q: torch.Tensor
    r_factor: torch.Tensor
    coefficients: torch.Tensor
    residual: torch.Tensor

    @property
    def half_squared_norm(self) -> float:
        return 0.5 * float(self.residual.pow(2).sum())


def projection_basis(eta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Return Φ(η) of shape ``(N, 2m)`` for ``η = (α_1 … α_m, ω_1 … ω_m)`` and grid ``x`` of shape ``(N,)``."""
    m = eta.shape[0] // 2
    alpha, omega = eta[:m], eta[m:]
    envelope = torch.exp(x[:, None] * alpha[None, :])
    angle = x[:, None] * omega[None, :]
    return torch.cat([envelope * torch.cos(angle), -envelope * torch.sin(angle)], dim=1)


def _project(eta: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> _ProjectedPoint | None:
    """Fit the linear coefficients at η by thin QR; ``None`` when Φ is not numerically of full rank."""
    basis = projection_basis(eta, x)
    if not bool(torch.isfinite(basis).all()):
        return None
    q, r_factor = torch.linalg.qr(basis)
    # |R_kk| / ‖Φ_k‖ is the sine of the angle between column k and the span of the columns
    # before it, so the test does not depend on how differently the columns are scaled.
    column_norms = basis.norm(dim=0)
    safe_norms = torch.where(column_norms > 0, column_norms, torch.ones_like(column_norms))
    independence = torch.where(column_norms > 0, r_factor.diagonal().abs() / safe_norms, torch.zeros_like(column_norms))
    if float(independence.min()) <= 1e3 * torch.finfo(basis.dtype).eps:
        return None
    qty = q.T @ y
    coefficients = torch.linalg.solve_triangular(r_factor, qty[:, None], upper=True)[:, 0]
    residual = q @ qty - y
    if not bool(torch.isfinite(coefficients).all()):
        return None
    return _ProjectedPoint(eta, basis, q, r_factor, coefficients, residual)


def projected_jacobian(point: _ProjectedPoint, x: torch.Tensor, kind: str = "full") -> torch.Tensor:
    """Return ``∂r/∂η`` of shape ``(N, 2m)``: Golub–Pereyra's exact form or Kaufman's approximation."""
    m = point.eta.shape[0] // 2
    xs = x[:, None]
    cos_columns, sin_columns = point.basis[:, :m], point.basis[:, m:]
    a, b = point.coefficients[:m], point.coefficients[m:]
    # D_{α_k} c and D_{ω_k} c: derivatives of term k at fixed coefficients.
    d_alpha = xs * (cos_columns * a + sin_columns * b)
    d_omega = xs * (sin_columns * a - cos_columns * b)
    derivative_times_c = torch.cat([d_alpha, d_omega], dim=1)
    jacobian = derivative_times_c - point.q @ (point.q.T @ derivative_times_c)
    if kind == "kaufman":
        return jacobian
    # Column i of W is D_iᵀ r. For α_k the nonzero columns of D are x⊙Φ_k and x⊙Φ_{m+k}; for
    # ω_k they are x⊙Φ_{m+k} and -x⊙Φ_k.
    u = (xs * cos_columns).T @ point.residual
    v = (xs * sin_columns).T @ point.residual
    index = torch.arange(m, device=x.device)
    w = torch.zeros(2 * m, 2 * m, dtype=x.dtype, device=x.device)
    w[index, index] = u
    w[m + index, index] = v
    w[index, m + index] = v
    w[m + index, m + index] = -u
    correction = point.q @ torch.linalg.solve_triangular(point.r_factor.T, w, upper=False)
    return jacobian - correction


def _to_params(point: _ProjectedPoint, start: AIONParams) -> AIONParams:
    """Map η and c to AION parameters in the start's term slots, with φ the nearest to the start's φ modulo 2π."""
    m = point.eta.shape[0] // 2
    a, b = point.coefficients[:m], point.coefficients[m:]
    shape = start.A.shape
    amplitude = torch.hypot(a, b).reshape(shape)
    phase = torch.atan2(b, a).reshape(shape)
    phase = start.phi + wrap_phase(phase - start.phi)
    return AIONParams(amplitude, point.eta[:m].reshape(shape), point.eta[m:].reshape(shape), phase)


def variable_projection(
    objective: AIONObjective,
    theta0,
    *,
    gtol: float = 1e-10,
    max_iterations: int = 200,
    jacobian: str = "full",
    initial_damping: float = 1e-3,
) -> SolverReport:
    """Fit a one-dimensional AION model by variable projection with Levenberg–Marquardt on (α, ω).

    See the module docstring for the reduced functional, the Jacobian and the damping rule.

    Parameters
    ----------
    objective : AIONObjective
        Data and model shape, with ``dim == 1``; its ``x``, ``y``, ``rank`` and ``terms`` are used.
    theta0 : tensor, array or list
        Start θ_0, flat. Only its rates and frequencies start the iteration; its amplitudes
        and phases are replaced by the least-squares ones in the first update.
    gtol : float
        Stop as ``"converged"`` when ``‖∇L(θ_k)‖₂ ≤ gtol ‖∇L(θ_0)‖₂``.
    max_iterations : int
        Cap on accepted Levenberg–Marquardt steps (status ``"max_iterations"``).
    jacobian : {"full", "kaufman"}
        Golub–Pereyra's exact Jacobian of the projected residual, or Kaufman's approximation.
    initial_damping : float
        λ_0, relative to the scaling ``S² = diag(JᵀJ)``.

    Returns
    -------
    SolverReport
        ``outer_iterations`` counts parameter updates: the projection of the start (fitting A
        and φ at the start's α and ω) plus every accepted step. The work counts are:

        - ``loss_evals``: one per projected point, each a thin QR factorisation and a
          triangular solve, which ``linear_solves`` also counts;
        - ``linear_solves``: those, plus one damped least-squares solve per trial step;
        - ``jacobian_evals``: one per point a step is taken from;
        - ``inner_iterations``: the trial steps;
        - ``grad_evals``: the closed-form ∇L(θ) of the full problem at θ_0 and at every
          accepted point, for the shared criterion.
    """
    check_aion_objective(objective, "variable_projection")
    if objective.dim != 1:
        raise ValueError(
            f"variable projection needs one input dimension, got dim={objective.dim}: with d > 1 "
            "an AION model is a product of sums and is not linear in any subset of its parameters; "
            "use levenberg_marquardt or lbfgs"
        )
    gtol = check_positive("gtol", gtol)
    max_iterations = check_count("max_iterations", max_iterations)
    initial_damping = check_positive("initial_damping", initial_damping)
    if jacobian not in JACOBIAN_KINDS:
        raise ValueError(f"jacobian must be one of {JACOBIAN_KINDS}, got {jacobian!r}")
    m = objective.rank * objective.terms
    x, y = objective.x[0, :, 0], objective.y[0]
    n_points = y.shape[0]
    if n_points < 4 * m:
        raise ValueError(
            f"the data have {n_points} points but a model with {m} term(s) has {4 * m} parameters; "
            f"pass at least {4 * m} points or fit fewer terms"
        )

    start_time = time.perf_counter()
    counts = WorkCounts()
    theta = objective.as_parameter(theta0).clone()
    start = objective.params(theta)
    check_exponent_range(start, objective.x, "theta0")

    def full_gradient_norm(params: AIONParams) -> tuple[float, float]:
        counts.grad_evals += 1
        residual, jacobian_matrix = aion_residual_and_jacobian(params, objective.x, objective.y)
        gradient = (2.0 / n_points) * (jacobian_matrix[0].T @ residual[0])
        return float(residual.pow(2).mean()), float(gradient.norm())

    loss0, grad_norm0 = full_gradient_norm(start)
    path, losses, grad_norms = [theta.clone()], [loss0], [grad_norm0]
    threshold = gtol * grad_norm0

    def finish(status: str, message: str) -> SolverReport:
        return SolverReport(
            method="Variable Projection",
            theta=path[-1],
            status=status,
            message=message,
            outer_iterations=len(path) - 1,
            work=counts,
            wall_time_s=time.perf_counter() - start_time,
            path=path,
            losses=losses,
            grad_norms=grad_norms,
        )

    if grad_norm0 <= threshold:
        return finish("converged", f"the start already meets the criterion, {criterion_message(gtol)}")

    def reached() -> str:
        return f"relative gradient norm {grad_norms[-1] / grad_norms[0]:.3g} > {gtol:g}"

    def evaluate(eta: torch.Tensor) -> _ProjectedPoint | None:
        counts.loss_evals += 1
        counts.linear_solves += 1
        return _project(eta, x, y)

    def record(point: _ProjectedPoint) -> bool:
        params = _to_params(point, start)
        loss, grad_norm = full_gradient_norm(params)
        path.append(params.to_vector()[0].clone())
        losses.append(loss)
        grad_norms.append(grad_norm)
        return grad_norm <= threshold

    eta = torch.cat([start.alpha.reshape(-1), start.omega.reshape(-1)])
    point = evaluate(eta)
    if point is None:
        return finish(
            "rank_deficient",
            "the basis Φ at the start's rates and frequencies is numerically rank deficient: two terms "
            "coincide, or a frequency of zero makes a sine column vanish; give the start's terms distinct, "
            "nonzero frequencies",
        )
    if record(point):
        return finish("converged", criterion_message(gtol))

    damping, growth = initial_damping, 2.0
    accepted = 0
    eps = torch.finfo(x.dtype).eps
    while True:
        counts.jacobian_evals += 1
        jacobian_matrix = projected_jacobian(point, x, jacobian)
        scale = jacobian_matrix.norm(dim=0)
        scale = torch.where(scale > 0, scale, torch.ones_like(scale))
        while True:
            if damping > MAX_DAMPING:
                return finish("stalled", f"no step decreases the loss (λ > {MAX_DAMPING:g}) at {reached()}")
            counts.inner_iterations += 1
            counts.linear_solves += 1
            augmented = torch.cat([jacobian_matrix, math.sqrt(damping) * torch.diag(scale)], dim=0)
            right = torch.cat([-point.residual, torch.zeros_like(scale)])
            step = torch.linalg.lstsq(augmented, right[:, None]).solution[:, 0]
            if float(step.norm()) <= eps * (float(point.eta.norm()) + eps):
                return finish("stalled", f"the step fell below the rounding of η at {reached()}")
            predicted = point.half_squared_norm - 0.5 * float((point.residual + jacobian_matrix @ step).pow(2).sum())
            trial = evaluate(point.eta + step)
            gain = -1.0
            if trial is not None and predicted > 0:
                gain = (point.half_squared_norm - trial.half_squared_norm) / predicted
            if gain > 0:
                damping *= max(1.0 / 3.0, 1.0 - (2.0 * gain - 1.0) ** 3)
                growth = 2.0
                break
            damping *= growth
            growth *= 2.0
        point = trial
        accepted += 1
        if record(point):
            return finish("converged", criterion_message(gtol))
        if accepted >= max_iterations:
            return finish("max_iterations", f"stopped after {max_iterations} accepted steps")
