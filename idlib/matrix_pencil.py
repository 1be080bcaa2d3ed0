"""The matrix pencil estimator (Hua–Sarkar) for sums of damped cosines on uniform grids, batched.

On a uniform grid ``x_n = x_0 + n h`` (n = 0 … N-1) a one-dimensional AION model with
``m = r P`` terms is a sum of ``M = 2m`` complex exponentials,

    f(x_n) = Σ_k A_k e^{α_k x_n} cos(ω_k x_n + φ_k) = Σ_k (h_k z_k^n + h̄_k z̄_k^n),
    z_k = exp((α_k + i ω_k) h),    h_k = (A_k / 2) exp((α_k + i ω_k) x_0 + i φ_k).

Estimator (Y. Hua and T. K. Sarkar, "Matrix pencil method for estimating parameters of
exponentially damped/undamped sinusoids in noise", IEEE Trans. Acoust., Speech, Signal Process.
38(5), 1990, section II, in its SVD-filtered form):

1. Form the ``(N - L) × (L + 1)`` Hankel matrix ``Y[n, l] = y_{n+l}`` with pencil parameter L.
2. Take its SVD ``Y = U Σ Vᵀ`` and keep the ``M`` leading right singular vectors ``V_M``
   (``(L + 1) × M``). For noise-free data the rows of Y are combinations of
   ``(z_k^0, …, z_k^L)``, so ``V_M`` spans the same space and is shift-invariant:
   with ``V₁`` = ``V_M`` without its last row and ``V₂`` = without its first row,
   ``V₂ = V₁ T⁻¹ diag(z) T`` for some invertible T.
3. The eigenvalues of ``V₁⁺ V₂`` (an ``M × M`` matrix, from a least-squares solve) are the z_k.
4. ``α_k = log|z_k| / h`` and ``ω_k = arg z_k / h`` from the m roots in the upper half-plane;
   then ``A_k cos φ_k`` and ``A_k sin φ_k`` by linear least squares on the grid.

The pencil parameter is ``L = max(M, ⌊N/3⌋)`` unless given. For noisy data values in
N/3 ≤ L ≤ 2N/3 are the usual choice. For noise-free data any M ≤ L ≤ N - M recovers the
roots exactly. With noise the estimate is not the least-squares fit, so it meets the shared
gradient criterion only on (nearly) noise-free data; it is a common start for an iterative
method.

The estimate is one-shot: no start point and no iteration. Per problem it costs one SVD, one
eigen-decomposition (``torch.linalg.eigvals``) and two linear least-squares solves (``V₁⁺ V₂``
and the amplitudes).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from ._solver_common import check_count, check_positive, criterion_message
from .aion import AIONParams, as_batched_inputs, mse_loss
from .data import check_targets
from .report import SolverReport, WorkCounts

# Work per problem of one estimate (see the module docstring).
SVDS_PER_ESTIMATE = 1
EIG_SOLVES_PER_ESTIMATE = 1
LINEAR_SOLVES_PER_ESTIMATE = 2


@dataclass
class MatrixPencilResult:
    """Batched outcome of ``matrix_pencil_estimate``.

    Attributes
    ----------
    params : estimated models, tensors ``(B, rank, 1, terms)``; NaN for problems whose estimate failed.
    status : per problem, ``"estimated"`` or the reason the estimate failed.
    message : per problem, the explanation of ``status``.
    roots : ``(B, 2m)`` complex eigenvalues of the pencil, the z_k and their conjugates.
    singular_values : ``(B, min(N - L, L + 1))`` singular values of the Hankel matrix; the drop
        after the 2m-th measures how well 2m exponentials describe the data.
    pencil_parameter : L.
    step : ``(B,)`` grid step h of each problem.
    wall_time_s : wall time of the whole batched call, in seconds.
    """

    params: AIONParams
    status: list[str]
    message: list[str]
    roots: torch.Tensor
    singular_values: torch.Tensor
    pencil_parameter: int
    step: torch.Tensor
    wall_time_s: float


def _uniform_step(x: torch.Tensor, rtol: float = 1e-9) -> torch.Tensor:
    """Return the step of each grid in ``x`` of shape ``(B, N, 1)``; raise unless every grid is uniform and increasing."""
    grid = x[..., 0]
    steps = grid.diff(dim=1)
    h = (grid[:, -1] - grid[:, 0]) / (grid.shape[1] - 1)
    deviation = (steps - h[:, None]).abs().amax(dim=1)
    bad = (h <= 0) | (deviation > rtol * h.abs())
    if bool(bad.any()):
        index = int(torch.nonzero(bad)[0])
        raise ValueError(
            f"x is not an increasing uniform grid (problem {index}: mean step {float(h[index]):.6g}, steps deviate "
            f"from it by up to {float(deviation[index]):.3g}); the matrix pencil needs equally spaced points, so "
            "resample the data or use variable_projection or levenberg_marquardt"
        )
    return h


def _check_pencil_inputs(x, y, terms: int, rank: int):
    """Return the grid ``(B or 1, N, 1)``, targets ``(B, N)`` and a zero template of the model shape."""
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"y must be a torch.Tensor, got {type(y).__name__}; convert with torch.as_tensor")
    if not y.is_floating_point():
        raise TypeError(f"y must be a real floating tensor, got dtype {y.dtype}")
    batch = 1 if y.ndim == 1 else y.shape[0]
    template = AIONParams(*(torch.zeros(batch, rank, 1, terms, dtype=y.dtype, device=y.device) for _ in range(4)))
    x = as_batched_inputs(x, template)
    y = check_targets(y, x, template)
    return x, y, template


def _default_pencil_parameter(n_points: int, exponentials: int) -> int:
    return max(exponentials, n_points // 3)


def matrix_pencil_estimate(
    x: torch.Tensor,
    y: torch.Tensor,
    terms: int,
    *,
    rank: int = 1,
    pencil_parameter: int | None = None,
    root_tol: float = 1e-9,
    slot_reference: AIONParams | None = None,
) -> MatrixPencilResult:
    """Estimate ``m = rank · terms`` damped cosines from samples on uniform grids, for a batch of problems.

    Parameters
    ----------
    x : torch.Tensor
        Uniform increasing grid, ``(N,)``, ``(N, 1)`` or ``(B, N, 1)``, in the dtype of ``y``.
    y : torch.Tensor
        Samples, ``(N,)`` or ``(B, N)``.
    terms, rank : int
        Shape of the AION model to return, ``(rank, 1, terms)``; only the total ``m = rank · terms``
        matters to the estimate.
    pencil_parameter : int, optional
        L, with ``2m ≤ L ≤ N - 2m``; default ``max(2m, ⌊N/3⌋)``.
    root_tol : float
        A root z counts as real (not part of a conjugate pair) when ``|Im z| ≤ root_tol |z|``.
    slot_reference : AIONParams, optional
        A model of the same shape (for example the start of another method): its term slots,
        ordered by ``|ω|``, receive the estimated terms in frequency order. Without it the
        slots are filled row-major in (j, p) in increasing frequency.

    Returns
    -------
    MatrixPencilResult
        Status ``"estimated"`` on success. ``"not_representable"`` means the pencil does not
        have m root pairs off the real axis: real roots are pure exponentials or the Nyquist
        frequency, which this model size cannot hold. ``"overflow"`` means a rate is infinite
        or overflows ``exp(α x)`` on the grid. Failed problems get NaN parameters.
    """
    start_time = time.perf_counter()
    terms = check_count("terms", terms)
    rank = check_count("rank", rank)
    root_tol = check_positive("root_tol", root_tol)
    x, y, template = _check_pencil_inputs(x, y, terms, rank)  # the template has d = 1, so x must too
    batch, n_points = y.shape
    m = rank * terms
    exponentials = 2 * m
    if n_points < 2 * exponentials:
        raise ValueError(
            f"y has {n_points} points but {m} damped cosine(s) need at least {2 * exponentials} "
            f"(the Hankel matrix must have at least {exponentials} rows and columns); pass more points or fewer terms"
        )
    if pencil_parameter is None:
        pencil_parameter = _default_pencil_parameter(n_points, exponentials)
    pencil_parameter = check_count("pencil_parameter", pencil_parameter)
    if not exponentials <= pencil_parameter <= n_points - exponentials:
        raise ValueError(
            f"pencil_parameter must lie in [{exponentials}, {n_points - exponentials}] for {m} term(s) and "
            f"{n_points} points, got {pencil_parameter}; the default max(2m, N // 3) is a safe choice"
        )
    if slot_reference is not None:
        if not isinstance(slot_reference, AIONParams):
            raise TypeError(f"slot_reference must be AIONParams, got {type(slot_reference).__name__}")
        if tuple(slot_reference.A.shape) != (batch, rank, 1, terms):
            raise ValueError(
                f"slot_reference must have shape {(batch, rank, 1, terms)}, got {tuple(slot_reference.A.shape)}"
            )
    h = _uniform_step(x).expand(batch)
    grid = x[..., 0].expand(batch, -1)

    hankel = y.unfold(1, pencil_parameter + 1, 1)  # (B, N - L, L + 1), hankel[b, n, l] = y[b, n + l]
    _, singular_values, right_vectors_t = torch.linalg.svd(hankel, full_matrices=False)
    signal_space = right_vectors_t[:, :exponentials, :].transpose(1, 2)  # (B, L + 1, 2m)
    shift_operator = torch.linalg.lstsq(signal_space[:, :-1, :], signal_space[:, 1:, :]).solution
    roots = torch.linalg.eigvals(shift_operator)  # (B, 2m)

    upper = roots.imag > root_tol * roots.abs()
    paired = upper.sum(dim=1) == m
    order = torch.argsort((~upper).to(torch.int64), dim=1, stable=True)
    chosen = roots.gather(1, order[:, :m])
    chosen = torch.where(paired[:, None], chosen, torch.ones_like(chosen))
    alpha = torch.log(chosen.abs()) / h[:, None]
    omega = torch.angle(chosen) / h[:, None]
    frequency_order = torch.argsort(omega, dim=1)
    alpha, omega = alpha.gather(1, frequency_order), omega.gather(1, frequency_order)

    envelope = torch.exp(alpha[:, None, :] * grid[:, :, None])
    angle = omega[:, None, :] * grid[:, :, None]
    basis = torch.cat([envelope * torch.cos(angle), -envelope * torch.sin(angle)], dim=2)  # (B, N, 2m)
    finite = torch.isfinite(basis).reshape(batch, -1).all(dim=1)
    # Failed problems get a harmless stand-in basis so that the batched solve stays finite.
    stand_in = torch.eye(n_points, exponentials, dtype=y.dtype, device=y.device)
    safe_basis = torch.where((paired & finite)[:, None, None], basis, stand_in)
    coefficients = torch.linalg.lstsq(safe_basis, y.unsqueeze(-1)).solution.squeeze(-1)
    cosine_part, sine_part = coefficients[:, :m], coefficients[:, m:]
    amplitude = torch.hypot(cosine_part, sine_part)
    phase = torch.atan2(sine_part, cosine_part)

    if slot_reference is None:
        slot_order = torch.arange(m, device=y.device).expand(batch, m)
    else:
        slot_order = torch.argsort(slot_reference.omega.abs().reshape(batch, m), dim=1)
    values = [torch.empty_like(amplitude).scatter(1, slot_order, value) for value in (amplitude, alpha, omega, phase)]
    succeeded = paired & finite
    values = [torch.where(succeeded[:, None], value, torch.full_like(value, float("nan"))) for value in values]
    params = AIONParams(*(value.reshape(template.A.shape) for value in values))

    status, message = [], []
    for b in range(batch):
        if not bool(paired[b]):
            status.append("not_representable")
            message.append(
                f"the pencil has {int(upper[b].sum())} complex-conjugate root pair(s) for {m} term(s); the other "
                "roots are real (pure exponentials or the Nyquist frequency), which this model size cannot hold"
            )
        elif not bool(finite[b]):
            status.append("overflow")
            message.append("an estimated rate is infinite (a zero root) or overflows exp(alpha * x) on this grid")
        else:
            status.append("estimated")
            message.append(
                f"one-shot estimate with pencil parameter L = {pencil_parameter}; singular value "
                f"{exponentials + 1} / singular value 1 = {_singular_value_ratio(singular_values[b], exponentials):.3g}"
            )
    return MatrixPencilResult(
        params=params,
        status=status,
        message=message,
        roots=roots,
        singular_values=singular_values,
        pencil_parameter=pencil_parameter,
        step=h,
        wall_time_s=time.perf_counter() - start_time,
    )


def _singular_value_ratio(values: torch.Tensor, exponentials: int) -> float:
    """σ_{2m+1} / σ_1, the relative size of what 2m exponentials leave unexplained (0 when σ has only 2m entries)."""
    if values.shape[0] <= exponentials or float(values[0]) == 0.0:
        return 0.0
    return float(values[exponentials] / values[0])


def _loss_and_gradient_norm(params: AIONParams, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """L and ‖∇L‖₂ for each problem of a batch, by one reverse pass (the problems are independent)."""
    vector = params.to_vector().detach().requires_grad_(True)
    shaped = AIONParams.from_vector(vector, params.rank, params.dim, params.terms)
    loss = mse_loss(shaped, x, y)
    (gradient,) = torch.autograd.grad(loss.sum(), vector)
    return loss.detach(), gradient.norm(dim=1)


def matrix_pencil(
    x: torch.Tensor,
    y: torch.Tensor,
    terms: int,
    *,
    rank: int = 1,
    theta0=None,
    gtol: float = 1e-10,
    pencil_parameter: int | None = None,
    root_tol: float = 1e-9,
) -> list[SolverReport]:
    """Run the matrix pencil estimator on a batch and report each problem like the other solvers.

    Parameters
    ----------
    x, y, terms, rank, pencil_parameter, root_tol
        As for ``matrix_pencil_estimate``.
    theta0 : AIONParams or tensor, optional
        Start points of another method, ``(B, rank, 1, terms)`` or flat ``(B, 4m)`` / ``(4m,)``.
        The estimator does not use them to estimate; they are the reference ``∇L(θ_0)`` of the
        shared criterion and fix which term goes into which slot.
    gtol : float
        With ``theta0`` the status is ``"converged"`` when ``‖∇L(θ̂)‖₂ ≤ gtol ‖∇L(θ_0)‖₂`` and
        ``"not_stationary"`` otherwise (the usual outcome with noisy data, where the estimate is
        not the least-squares fit).

    Returns
    -------
    list of SolverReport
        One per problem. A successful estimate is one update, so ``outer_iterations`` is 1
        (0 when it failed) and the path is ``[θ_0, θ̂]`` with ``theta0`` or ``[θ̂]`` without,
        in which case the status is ``"estimated"``. Work per problem: 1 SVD, 1
        eigen-decomposition, 2 linear least-squares solves, and one gradient evaluation per
        point of the path. ``wall_time_s`` is the batched call's time divided by B.
    """
    start_time = time.perf_counter()
    gtol = check_positive("gtol", gtol)
    terms, rank = check_count("terms", terms), check_count("rank", rank)
    x_checked, y_checked, template = _check_pencil_inputs(x, y, terms, rank)
    start = None if theta0 is None else _as_start(theta0, template)
    result = matrix_pencil_estimate(
        x, y, terms, rank=rank, pencil_parameter=pencil_parameter, root_tol=root_tol, slot_reference=start
    )
    batch = y_checked.shape[0]
    loss, grad_norm = _loss_and_gradient_norm(result.params, x_checked, y_checked)
    if start is not None:
        loss0, grad_norm0 = _loss_and_gradient_norm(start, x_checked, y_checked)
    wall_time = (time.perf_counter() - start_time) / batch

    reports = []
    for b in range(batch):
        estimated = result.status[b] == "estimated"
        status, message = result.status[b], result.message[b]
        path, losses, grad_norms = [], [], []
        if start is not None:
            path.append(start.to_vector()[b].clone())
            losses.append(float(loss0[b]))
            grad_norms.append(float(grad_norm0[b]))
        if estimated or start is None:
            path.append(result.params.to_vector()[b].clone())
            losses.append(float(loss[b]))
            grad_norms.append(float(grad_norm[b]))
        if estimated and start is not None:
            if grad_norms[-1] <= gtol * grad_norms[0]:
                status, message = "converged", f"{criterion_message(gtol)}; {message}"
            else:
                relative = grad_norms[-1] / grad_norms[0] if grad_norms[0] > 0 else float("inf")
                status = "not_stationary"
                message = f"the estimate has relative gradient norm {relative:.3g} > {gtol:g}; {message}"
        work = WorkCounts(
            grad_evals=len(path),
            linear_solves=LINEAR_SOLVES_PER_ESTIMATE,
            eig_solves=EIG_SOLVES_PER_ESTIMATE,
            svds=SVDS_PER_ESTIMATE,
        )
        reports.append(
            SolverReport(
                method="Matrix Pencil",
                theta=path[-1],
                status=status,
                message=message,
                outer_iterations=1 if estimated else 0,
                work=work,
                wall_time_s=wall_time,
                path=path,
                losses=losses,
                grad_norms=grad_norms,
            )
        )
    return reports


def _as_start(theta0, template: AIONParams) -> AIONParams:
    """Convert ``theta0`` (AIONParams or flat tensor) into parameters of the template's shape."""
    shape = tuple(template.A.shape)
    if isinstance(theta0, AIONParams):
        params = theta0
    else:
        vector = torch.as_tensor(theta0, dtype=template.dtype, device=template.device)
        if vector.ndim == 1:
            vector = vector.unsqueeze(0)
        expected = (template.batch_size, template.n_params)
        if tuple(vector.shape) != expected:
            raise ValueError(
                f"theta0 must describe models of shape {shape}, so a flat theta0 needs shape {expected}; "
                f"got {tuple(vector.shape)}"
            )
        params = AIONParams.from_vector(vector, template.rank, template.dim, template.terms)
    if tuple(params.A.shape) != shape:
        raise ValueError(f"theta0 must describe models of shape {shape}, got {tuple(params.A.shape)}")
    if params.dtype != template.dtype or params.device != template.device:
        raise ValueError(f"theta0 must have dtype {template.dtype} on {template.device}, got {params.dtype} on {params.device}")
    return params.check_finite("theta0")
