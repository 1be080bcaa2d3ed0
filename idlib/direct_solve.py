"""The Infinite Descent step for AION on a uniform one-dimensional grid.

The step δ solves the resummed first-order condition ∇L(θ + δ) = 0 (see ``tower``) for the
mean squared error ``L = (1/N) Σ_n (f(x_n) - y_n)²``. With one input dimension an AION is a sum
of ``m = r P`` damped cosines, and the condition is solved in three exact stages.

1. **Amplitudes and phases enter linearly.** The tower in ΔA stops at first order and a phase
   shift is a rotation, ``A' e^{iφ'} = (A + ΔA) e^{i(φ + Δφ)}``. For fixed shifted rates and
   frequencies, ∂L/∂A = ∂L/∂φ = 0 is the linear least-squares problem for the coefficients
   ``a = A' cos φ'`` and ``b = A' sin φ'`` of ``e^{α'x} cos ω'x`` and ``-e^{α'x} sin ω'x``.
   Eliminating them (variable projection) leaves a condition on (α', ω') alone.

2. **On a uniform grid the multipliers are powers.** With ``x_n = x_0 + n h`` the shift
   multiplier of a term is ``exp((Δα + iΔω) x_n) ∝ w^n`` with ``w = exp((Δα + iΔω) h)``, so the
   shifted term is a multiple of ``z'^n`` with ``z' = z w`` and ``z = exp((α + iω) h)``. Every
   sum of the ``m`` shifted terms is annihilated by the difference operator whose characteristic
   polynomial ``γ(t) = Σ_k γ_k t^k`` (degree ``p = 2m``, real coefficients) has the roots
   ``z'`` and their conjugates. Writing ``X_γ`` for the ``N × (N-p)`` banded matrix of that
   operator, the residual after step 1 is the projection of ``y`` onto the range of ``X_γ``,
   and the reduced loss is ``ψ(γ) = yᵀ X_γ (X_γᵀ X_γ)⁻¹ X_γᵀ y``.

3. **The condition becomes an eigenproblem.** The gradient of ψ is ``2 B(γ) γ`` with the
   symmetric ``(p+1) × (p+1)`` matrix

       B(γ) = Yᵀ W Y - Vᵀ V,    W = (X_γᵀ X_γ)⁻¹,  v = W Y γ,

   where ``Y[n, k] = y_{n+k}`` is the Hankel data matrix (so ``X_γᵀ y = Y γ``) and
   ``(Vᵀ V)[i, k] = Σ_n v_n v_{n+|i-k|}``. Because ψ is homogeneous of degree zero, a stationary
   point is an eigenvector of ``B(γ)`` with eigenvalue zero: a nonlinear eigenproblem. It is
   solved by the eigen-iteration of Osborne and Smyth, ``γ_{t+1}`` = the unit eigenvector of
   ``B(γ_t)`` whose eigenvalue is nearest zero, started from the ``γ`` of the current point θ
   (M. R. Osborne and G. K. Smyth, "A modified Prony algorithm for exponential function
   fitting", SIAM J. Sci. Comput. 16(1), 1995, section 2). With noise-free data ``Y γ* = 0``
   at the truth and the iteration settles in a few eigen-solves.

The roots of the converged ``γ`` (eigenvalues of its companion matrix) give α' = log|z'|/h and
ω' = arg z'/h; step 1 then gives A' and φ', and δ = θ' - θ. The step is one outer update; its
inner work (eigen-iterations, Cholesky factorisations, eigen-decompositions and the final
least-squares solve) is counted per problem and reported.

Known limits, reported through ``status`` rather than by returning a wrong δ: the stationary
point may have a real characteristic root (a pure exponential, which no term with ω > 0
represents), roots at the Nyquist frequency, or a root at infinity; the iteration may stop at
``max_inner`` without converging. The eigen-iteration converges to the stationary point nearest
to its start in the sense of the iteration, which need not be the global minimum on a
non-convex landscape.

Cost: each eigen-iteration factorises the ``(N-p) × (N-p)`` banded Gram matrix ``X_γᵀ X_γ``.
NOTE: this implementation forms it dense, so one iteration costs O(N³) per problem rather than
the O(N p²) a banded factorisation would give. For the grids used here (N ≤ a few hundred) the
dense factorisation is fast and numerically equivalent.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from .aion import AIONParams, as_batched_inputs, wrap_phase
from .data import check_exponent_range, check_targets, uniform_step
from .report import SolverReport, WorkCounts
from .tower import resummed_gradient


@dataclass
class DirectSolveResult:
    """Batched outcome of the Infinite Descent step.

    Attributes
    ----------
    params : the new point θ + δ (equal to θ where the step failed), tensors ``(B, r, 1, P)``.
    delta : the step δ, zero where the step failed.
    status : per problem, ``"converged"`` or the reason the step failed.
    message : per problem, the explanation of ``status``.
    inner_iterations : ``(B,)`` eigen-iterations used by each problem.
    linear_solves, eig_solves : ``(B,)`` factorisations and eigen-decompositions per problem.
    loss : ``(B,)`` loss at the new point.
    grad_norm : ``(B,)`` ‖∇L‖₂ at the new point, from the resummed tower.
    grad_norm_start : ``(B,)`` ‖∇L‖₂ at θ.
    wall_time_s : wall time of the whole batched call.
    """

    params: AIONParams
    delta: AIONParams
    status: list[str]
    message: list[str]
    inner_iterations: torch.Tensor
    linear_solves: torch.Tensor
    eig_solves: torch.Tensor
    loss: torch.Tensor
    loss_start: torch.Tensor
    grad_norm: torch.Tensor
    grad_norm_start: torch.Tensor
    wall_time_s: float


def characteristic_polynomial(params: AIONParams, h: torch.Tensor) -> torch.Tensor:
    """Return the unit-norm coefficients ``γ_0 … γ_p`` (ascending) of Π_k (t - z_k)(t - z̄_k).

    ``z_k = exp((α_k + iω_k) h)`` for every term of the one-dimensional models in ``params``;
    shape ``(B, 2 r P + 1)``.
    """
    batch = params.batch_size
    z = torch.exp(torch.complex(params.alpha, params.omega).reshape(batch, -1) * h.reshape(-1, 1))
    gamma = torch.ones(batch, 1, dtype=params.dtype, device=params.device)
    for k in range(z.shape[1]):
        quadratic = torch.stack([z[:, k].abs() ** 2, -2 * z[:, k].real, torch.ones_like(z[:, k].real)], dim=1)
        gamma = _multiply_polynomials(gamma, quadratic)
    return gamma / gamma.norm(dim=1, keepdim=True)


def _multiply_polynomials(left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
    """Batched product of ascending coefficient vectors ``(B, a)`` and ``(B, b)``."""
    out = torch.zeros(left.shape[0], left.shape[1] + right.shape[1] - 1, dtype=left.dtype, device=left.device)
    for k in range(right.shape[1]):
        out[:, k : k + left.shape[1]] += left * right[:, k : k + 1]
    return out


def _lagged_products(values: torch.Tensor, max_lag: int) -> torch.Tensor:
    """``c[:, s] = Σ_n values[:, n] values[:, n+s]`` for ``s = 0 … max_lag``; shape ``(B, max_lag+1)``."""
    length = values.shape[1]
    return torch.stack(
        [(values[:, : length - s] * values[:, s:]).sum(dim=1) for s in range(max_lag + 1)], dim=1
    )


def _toeplitz(first_column: torch.Tensor, size: int) -> torch.Tensor:
    """Symmetric banded Toeplitz matrices ``(B, size, size)`` from ``(B, bandwidth+1)`` diagonals."""
    index = torch.arange(size, device=first_column.device)
    lag = (index[:, None] - index[None, :]).abs()
    bandwidth = first_column.shape[1] - 1
    padded = torch.cat([first_column, torch.zeros_like(first_column[:, :1])], dim=1)
    return padded[:, lag.clamp(max=bandwidth + 1)]


def osborne_matrix(gamma: torch.Tensor, hankel: torch.Tensor, exact: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``B(γ) = Yᵀ W Y - Vᵀ V`` for coefficients ``(B, p+1)`` and Hankel data ``(B, N-p, p+1)``.

    With ``exact=False`` the correction ``Vᵀ V`` is left out, giving the positive semi-definite
    ``Yᵀ W Y`` of the weighted-Prony (IQML) iteration. The second result is ``(B,)``, true where
    the Cholesky factorisation of ``X_γᵀ X_γ`` succeeded; where it failed (roots so far from the
    unit circle that the Gram matrix is numerically singular) the matrix is meaningless.
    """
    p = gamma.shape[1] - 1
    rows = hankel.shape[1]
    gram = _toeplitz(_lagged_products(gamma, p), rows)  # X_γᵀ X_γ
    factor, info = torch.linalg.cholesky_ex(gram)
    factored = info == 0
    if not bool(factored.all()):
        identity = torch.eye(rows, dtype=gram.dtype, device=gram.device).expand_as(gram)
        factor = torch.where(factored[:, None, None], factor, identity)
    weighted = torch.cholesky_solve(hankel, factor)  # W Y
    matrix = hankel.transpose(1, 2) @ weighted  # Yᵀ W Y
    if exact:
        v = (weighted @ gamma.unsqueeze(-1)).squeeze(-1)  # W Y γ
        matrix = matrix - _toeplitz(_lagged_products(v, p), p + 1)  # minus Vᵀ V
    return 0.5 * (matrix + matrix.transpose(1, 2)), factored


def _eigen_iteration(gamma: torch.Tensor, hankel: torch.Tensor, xtol: float, max_inner: int, exact: bool):
    """Iterate ``γ ← eigenvector of B(γ)`` until ``‖Δγ‖₂ ≤ xtol``.

    With ``exact=True`` the eigenvalue nearest zero of the exact ``B(γ)`` is followed (Osborne and
    Smyth); with ``exact=False`` the smallest eigenvalue of ``Yᵀ W Y``. Returns γ, the iterations
    used per problem, a mask of the problems that settled and a mask of those whose Gram matrix
    could not be factorised (they stop at once).
    """
    batch = gamma.shape[0]
    iterations = torch.zeros(batch, dtype=torch.long, device=gamma.device)
    active = torch.ones(batch, dtype=torch.bool, device=gamma.device)
    broken = torch.zeros(batch, dtype=torch.bool, device=gamma.device)
    for _ in range(max_inner):
        index = torch.nonzero(active).squeeze(1)
        if index.numel() == 0:
            break
        current = gamma[index]
        matrix, factored = osborne_matrix(current, hankel[index], exact)
        broken = broken.index_put((index,), ~factored)
        finite = torch.isfinite(matrix).all(dim=2).all(dim=1)
        broken = broken.index_put((index,), broken[index] | ~finite)
        factored = factored & finite
        matrix = torch.where(factored[:, None, None], matrix, torch.eye(matrix.shape[1], dtype=matrix.dtype, device=matrix.device))
        eigenvalues, eigenvectors = torch.linalg.eigh(matrix)
        chosen = eigenvalues.abs().argmin(dim=1) if exact else torch.zeros_like(index)
        update = eigenvectors.gather(2, chosen[:, None, None].expand(-1, eigenvectors.shape[1], 1)).squeeze(2)
        sign = torch.where((update * current).sum(dim=1) < 0, -1.0, 1.0).to(update.dtype)
        update = torch.where(factored[:, None], update * sign[:, None], current)
        iterations[index] += 1
        # An eigenvector is determined only to about eps ‖B‖ / gap, where gap separates its
        # eigenvalue from the others. Steps below that floor are rounding, not progress.
        others = eigenvalues.scatter(1, chosen[:, None], float("inf"))
        gap = (others - eigenvalues.gather(1, chosen[:, None])).abs().amin(dim=1)
        floor = 100 * torch.finfo(gamma.dtype).eps * eigenvalues.abs().amax(dim=1) / gap
        settled = (update - current).norm(dim=1) <= torch.clamp(floor, min=xtol)
        gamma = gamma.index_copy(0, index, update)
        active = active.index_put((index,), ~settled & factored)
    return gamma, iterations, ~active & ~broken, broken


def _roots(gamma: torch.Tensor) -> torch.Tensor:
    """Roots of the ascending polynomials ``gamma`` (``(B, p+1)``) as companion eigenvalues, ``(B, p)``."""
    p = gamma.shape[1] - 1
    companion = torch.zeros(gamma.shape[0], p, p, dtype=gamma.dtype, device=gamma.device)
    companion[:, 1:, :-1] = torch.eye(p - 1, dtype=gamma.dtype, device=gamma.device)
    leading = gamma[:, -1:]
    safe_leading = torch.where(leading == 0, torch.ones_like(leading), leading)
    companion[:, :, -1] = -gamma[:, :-1] / safe_leading
    return torch.linalg.eigvals(companion)


def _fit_amplitudes(alpha: torch.Tensor, omega: torch.Tensor, x: torch.Tensor, y: torch.Tensor):
    """Least-squares amplitudes and phases for fixed rates and frequencies, each ``(B, m)``.

    ``x`` is ``(B, N)``; the basis of term k is ``e^{α x} cos ωx`` and ``-e^{α x} sin ωx`` with
    coefficients ``A cos φ`` and ``A sin φ``. The solve goes through the SVD of the basis, whose
    condition number is returned as well, ``(B,)``.
    """
    envelope = torch.exp(alpha[:, None, :] * x[:, :, None])
    angle = omega[:, None, :] * x[:, :, None]
    basis = torch.cat([envelope * torch.cos(angle), -envelope * torch.sin(angle)], dim=2)
    left, singular, right_t = torch.linalg.svd(basis, full_matrices=False)
    safe = torch.where(singular > 0, singular, torch.ones_like(singular))
    projected = (left.transpose(1, 2) @ y.unsqueeze(-1)).squeeze(-1) / safe
    coefficients = (right_t.transpose(1, 2) @ projected.unsqueeze(-1)).squeeze(-1)
    condition = singular[:, 0] / singular[:, -1]
    m = alpha.shape[1]
    cosine_part, sine_part = coefficients[:, :m], coefficients[:, m:]
    return torch.hypot(cosine_part, sine_part), torch.atan2(sine_part, cosine_part), condition


def _nearest_representative(new: AIONParams, start: AIONParams) -> AIONParams:
    """Pick, among the representations of the same model, the one nearest the start point.

    Signs of A and ω follow the start, and φ is shifted by a multiple of 2π towards the start's φ.
    """
    A, alpha, omega, phi = new.canonical().tensors()
    flip_omega = start.omega < 0
    omega = torch.where(flip_omega, -omega, omega)
    phi = torch.where(flip_omega, -phi, phi)
    flip_A = start.A < 0
    A = torch.where(flip_A, -A, A)
    phi = torch.where(flip_A, phi + math.pi, phi)
    phi = start.phi + wrap_phase(phi - start.phi)
    return AIONParams(A, alpha, omega, phi)


def direct_solve(
    params: AIONParams,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    xtol: float = 1e-13,
    max_inner: int = 100,
    root_tol: float = 1e-9,
) -> DirectSolveResult:
    """Solve ∇L(θ + δ) = 0 for δ on a uniform one-dimensional grid, for a batch of problems.

    Parameters
    ----------
    params : the current point θ, tensors ``(B, r, 1, P)``.
    x : uniform grid, ``(N,)``, ``(N, 1)`` or ``(B, N, 1)``.
    y : targets, ``(N,)`` or ``(B, N)``.
    xtol : the eigen-iteration stops when ``‖γ_{t+1} - γ_t‖₂ ≤ max(xtol, 100 eps ‖B‖₂ / gap)``
        (γ has unit norm; ``gap`` separates the followed eigenvalue of ``B`` from the others,
        so the second term is the rounding floor of the eigenvector).
    max_inner : maximum eigen-iterations per problem.
    root_tol : a root ``z`` counts as real when ``|Im z| ≤ root_tol |z|``.

    Returns
    -------
    DirectSolveResult; problems whose step failed keep δ = 0 and say why in ``status``.
    """
    start_time = time.perf_counter()
    if not isinstance(params, AIONParams):
        raise TypeError(f"params must be AIONParams, got {type(params).__name__}")
    params.check_finite("params")
    if params.dim != 1:
        raise ValueError(
            f"the eigenvalue direct solve needs one input dimension, got d={params.dim}; "
            "fit one-dimensional data or use a baseline solver"
        )
    if not (xtol > 0 and max_inner >= 1 and root_tol > 0):
        raise ValueError(f"need xtol > 0, max_inner >= 1 and root_tol > 0; got {xtol}, {max_inner}, {root_tol}")
    x = as_batched_inputs(x, params)
    y = check_targets(y, x, params)
    check_exponent_range(params, x)
    batch, n_points = y.shape
    m = params.rank * params.terms
    p = 2 * m
    if n_points < 4 * m + 1:
        raise ValueError(
            f"y has {n_points} points but a model with {m} term(s) has {4 * m} parameters; "
            f"the direct solve needs at least {4 * m + 1} points"
        )
    h = uniform_step(x).expand(batch)
    grid = x[..., 0].expand(batch, -1)

    zero = AIONParams(*(torch.zeros_like(t) for t in params.tensors()))
    loss_start, grad_start = resummed_gradient(params, zero, x, y)
    grad_norm_start = grad_start.to_vector().norm(dim=1)

    gamma = characteristic_polynomial(params, h)
    # The roots do not depend on the scale of y, and B(γ) grows as its square, so the
    # eigen-iteration runs on y / max|y| to keep very large or small data in range.
    scale = y.abs().amax(dim=1, keepdim=True)
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    hankel = (y / scale).unfold(1, p + 1, 1)  # (B, N-p, p+1), hankel[b, n, k] = y[b, n+k] / scale
    # Stage 1 (weighted Prony) moves γ into the basin of the least-squares solution; with
    # noise-free data it lands on it at once, because then Y γ* = 0 for every weight W.
    # Stage 2 (Osborne–Smyth) converges to the exact stationary point ∇L = 0.
    gamma, prony_iterations, _, prony_broken = _eigen_iteration(gamma, hankel, xtol, max_inner, exact=False)
    gamma, exact_iterations, settled, exact_broken = _eigen_iteration(gamma, hankel, xtol, max_inner, exact=True)
    iterations = prony_iterations + exact_iterations
    broken = prony_broken | exact_broken
    settled = settled & ~broken

    roots = _roots(gamma)
    upper = roots.imag > root_tol * roots.abs()
    n_upper = upper.sum(dim=1)
    finite_roots = torch.isfinite(roots.real).all(dim=1) & (gamma[:, -1] != 0) & (roots.abs() > 0).all(dim=1)
    paired = (n_upper == m) & finite_roots
    # Keep the roots in the upper half-plane, ordered by frequency to match the start's terms.
    order = torch.argsort((~upper).to(torch.int64), dim=1, stable=True)
    chosen = roots.gather(1, order[:, :m])
    chosen = torch.where(paired[:, None], chosen, torch.ones_like(chosen))
    alpha = torch.log(chosen.abs()) / h[:, None]
    omega = torch.angle(chosen) / h[:, None]
    frequency_order = torch.argsort(omega, dim=1)
    alpha, omega = alpha.gather(1, frequency_order), omega.gather(1, frequency_order)
    A, phi, condition = _fit_amplitudes(alpha, omega, grid, y)
    # Terms with (nearly) the same root give (nearly) identical basis columns, so their
    # amplitudes are not determined: beyond 1/sqrt(eps) the step would be arbitrary.
    distinct = condition <= 1.0 / math.sqrt(torch.finfo(y.dtype).eps)

    # Term slots (j, p) of the start, ordered by |ω|, receive the new terms in frequency order.
    slot_order = torch.argsort(params.omega.abs().reshape(batch, m), dim=1)
    new = [torch.empty_like(A).scatter(1, slot_order, value) for value in (A, alpha, omega, phi)]
    new_params = AIONParams(*(value.reshape(params.A.shape) for value in new))
    finite_values = torch.stack([torch.isfinite(t).reshape(batch, -1).all(dim=1) for t in new], dim=1).all(dim=1)
    new_params = AIONParams(*(torch.where(torch.isfinite(t), t, torch.zeros_like(t)) for t in new_params.tensors()))
    new_params = _nearest_representative(new_params, params)

    succeeded = settled & paired & distinct & finite_values
    delta = AIONParams(*(
        torch.where(succeeded[:, None, None, None], t_new - t_old, torch.zeros_like(t_old))
        for t_new, t_old in zip(new_params.tensors(), params.tensors())
    ))
    final = AIONParams(*(t_old + t_delta for t_old, t_delta in zip(params.tensors(), delta.tensors())))
    loss, grad = resummed_gradient(params, delta, x, y)

    status, message = [], []
    for b in range(batch):
        if bool(broken[b]):
            status.append("numerical_failure")
            message.append(
                "the Gram matrix of the difference operator could not be factorised (characteristic roots far "
                "from the unit circle); start closer to the data or rescale x; δ = 0"
            )
        elif not bool(settled[b]):
            status.append("max_inner_iterations")
            message.append(f"the eigen-iteration did not settle within {max_inner} iterations; δ = 0")
        elif not bool(finite_roots[b]):
            status.append("degenerate_polynomial")
            message.append("the characteristic polynomial has a root at zero or infinity; δ = 0")
        elif not bool(paired[b]):
            status.append("not_representable")
            message.append(
                f"the stationary point has {int(n_upper[b])} complex-conjugate root pair(s) for {m} term(s): "
                "some roots are real (pure exponentials or the Nyquist frequency), which no AION term "
                "of this size represents; δ = 0"
            )
        elif not bool(distinct[b]):
            status.append("colliding_terms")
            message.append(
                f"terms of the stationary point (nearly) share a root: the amplitude basis has condition number "
                f"{float(condition[b]):.3g}, so the amplitudes are not determined; fit a model with fewer terms; δ = 0"
            )
        elif not bool(finite_values[b]):
            status.append("overflow")
            message.append("the new rates overflow exp(alpha * x) on this grid; δ = 0")
        elif float(loss[b]) > float(loss_start[b]):
            status.append("higher_loss")
            message.append(
                f"the step solves ∇L(θ + δ) = 0 but reaches a stationary point with a higher loss than the start "
                f"({float(loss[b]):.6g} > {float(loss_start[b]):.6g}): a saddle or a worse local minimum"
            )
        else:
            status.append("converged")
            message.append(f"eigen-iteration settled after {int(iterations[b])} iteration(s)")
    iterations_cpu = iterations.cpu()
    return DirectSolveResult(
        params=final,
        delta=delta,
        status=status,
        message=message,
        inner_iterations=iterations_cpu,
        linear_solves=iterations_cpu + 1,  # one Cholesky per iteration and the amplitude least squares
        eig_solves=iterations_cpu + 1,  # one eigh per iteration and the companion eigenvalues
        loss=loss.detach(),
        loss_start=loss_start.detach(),
        grad_norm=grad.to_vector().norm(dim=1).detach(),
        grad_norm_start=grad_norm_start.detach(),
        wall_time_s=time.perf_counter() - start_time,
    )


def infinite_descent(params: AIONParams, x: torch.Tensor, y: torch.Tensor, **options) -> SolverReport:
    """Take one Infinite Descent step on a single problem and report it like the other solvers.

    ``params`` must hold a batch of one; ``options`` are passed to ``direct_solve``. The report
    counts two gradient evaluations (at θ, for the shared convergence measure, and at θ + δ)
    and all inner work of the direct solve.
    """
    if params.batch_size != 1:
        raise ValueError(f"infinite_descent takes one problem, got a batch of {params.batch_size}; use direct_solve")
    result = direct_solve(params, x, y, **options)
    work = WorkCounts(
        grad_evals=2,
        linear_solves=int(result.linear_solves[0]),
        eig_solves=int(result.eig_solves[0]),
        inner_iterations=int(result.inner_iterations[0]),
    )
    return single_step_report("Infinite Descent", params, result, work)


def single_step_report(method: str, params: AIONParams, result: DirectSolveResult, work: WorkCounts) -> SolverReport:
    """Build the report of one step on a single problem from a batch-of-one ``DirectSolveResult``.

    The path is the start and the new point; the step counts as one outer iteration when δ was
    applied (status ``"converged"`` or ``"higher_loss"``).
    """
    start = params.to_vector()[0]
    end = result.params.to_vector()[0]
    stepped = result.status[0] in ("converged", "higher_loss")
    return SolverReport(
        method=method,
        theta=end,
        status=result.status[0],
        message=result.message[0],
        outer_iterations=1 if stepped else 0,
        work=work,
        wall_time_s=result.wall_time_s,
        path=[start, end],
        losses=[float(result.loss_start[0]), float(result.loss[0])],
        grad_norms=[float(result.grad_norm_start[0]), float(result.grad_norm[0])],
    )
