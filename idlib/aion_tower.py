"""Every term of the AION Taylor tower in closed form.

Shift one atom term along the step t δ, ``δ = (ΔA, Δα, Δω, Δφ)``. Its complex form is

    (A + t ΔA) · E · exp(t u),    E = exp(α x + i(ω x + φ)),    u = Δα x + i(Δω x + Δφ),

so the coefficient of t^k, the order-k term of the shifted atom, is

    S_k = A E u^k / k! + ΔA E u^{k-1} / (k-1)!      (the second part only for k ≥ 1).

Under the real-part convention of ``idlib.aion`` the real part is taken term by term, and
because t and δ are real, ``Re`` commutes with taking coefficients in t. The derivatives of a
term are again shifted atoms: ∂/∂A → ``E u^k / k!``, ∂/∂α → ``x Re S_k``, ∂/∂ω → ``-x Im S_k``,
∂/∂φ → ``-Im S_k``. The one-dimensional factors ψ_{j,i} = Σ_p Re S multiply across the inputs
i, and the gradient of the mean squared error is ``(2/N) Σ_n r_n ∇f_n``, so each product of
two t-series becomes a Cauchy product:

    T_k = (2/N) Σ_n Σ_{m=0}^{k} r_m(x_n) ∇f_{k-m}(x_n),    r_m = f_m - y [m = 0].

Every series here is entire in t (a finite sum of products of ``exp(t u)`` and polynomials),
so the partial sums ``Σ_{k≤K} T_k`` converge to ``∇L(θ + δ)`` for every δ, faster than any
geometric rate. ``‖T_k‖`` is bounded by ``C k c^k / k!``, where the constants C and c grow with
``|u|``, that is with ``|δ|`` and the largest ``|x|``. ``idlib.tower.resummed_gradient`` is the
sum of this series. The cost of K orders is ``O(K² N r d P)`` operations.
"""

from __future__ import annotations

import math

import torch

from .aion import AIONParams, as_batched_inputs, complex_atoms, mse_loss
from .data import check_targets
from .taylor import check_flat_parameters, check_order, truncation_errors
from .tower import resummed_gradient


def cauchy_product(left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
    """Coefficients ``c_k = Σ_{m=0}^{k} a_m b_{k-m}`` of the product of two truncated series.

    The series index is the first axis, and the other axes broadcast. The result keeps the
    ``min(len(a), len(b))`` orders present in both inputs.
    """
    orders = min(left.shape[0], right.shape[0])
    coefficients = [(left[: k + 1] * right[: k + 1].flip(0)).sum(dim=0) for k in range(orders)]
    return torch.stack(coefficients)


def exponential_series(u: torch.Tensor, order: int) -> torch.Tensor:
    """Coefficients ``u^k / k!`` of ``exp(t u)`` in t, for k = 0 … K; shape ``(K + 1, *u.shape)``."""
    coefficients = [torch.ones_like(u)]
    for k in range(1, order + 1):
        coefficients.append(coefficients[-1] * u / k)
    return torch.stack(coefficients)


def _delay(series: torch.Tensor) -> torch.Tensor:
    """Shift a series by one order: coefficient k of the result is coefficient k - 1 of the input."""
    return torch.cat([torch.zeros_like(series[:1]), series[:-1]])


def shifted_atom_series(params: AIONParams, delta: AIONParams, x: torch.Tensor, order: int):
    """Return the series of the shifted atom term and of the shifted multiplier, k = 0 … K.

    Parameters
    ----------
    params : θ, tensors ``(B, r, d, P)``.
    delta : δ, same shape.
    x : inputs already shaped ``(B or 1, N, d)`` (see ``aion.as_batched_inputs``).
    order : the highest order K.

    Returns
    -------
    term_series : complex ``(K + 1, B, N, r, d, P)``, ``S_k = A E u^k/k! + ΔA E u^{k-1}/(k-1)!``.
    atom_series : complex, same shape, ``E u^k / k!`` (the series of ``E exp(t u)``).
    """
    xs = x[:, :, None, :, None]
    u = torch.complex(delta.alpha[:, None] * xs, delta.omega[:, None] * xs + delta.phi[:, None])
    atom_series = complex_atoms(params, x) * exponential_series(u, order)
    term_series = params.A[:, None] * atom_series + delta.A[:, None] * _delay(atom_series)
    return term_series, atom_series


def _leave_one_out_series(factors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Series products over the last axis: all factors, and all but each one.

    ``factors`` has shape ``(K + 1, …, d)``. Returns the full product ``(K + 1, …)`` and the
    leave-one-out products ``(K + 1, …, d)``, built from prefix and suffix products without
    division.
    """
    dim = factors.shape[-1]
    unit_series = torch.zeros_like(factors[..., 0])
    unit_series[0] = 1.0
    prefixes = [unit_series]
    for i in range(dim):
        prefixes.append(cauchy_product(prefixes[-1], factors[..., i]))
    suffixes = [unit_series]
    for i in reversed(range(dim)):
        suffixes.append(cauchy_product(suffixes[-1], factors[..., i]))
    suffixes = suffixes[::-1]  # suffixes[i] = product of factors i … d-1
    others = torch.stack([cauchy_product(prefixes[i], suffixes[i + 1]) for i in range(dim)], dim=-1)
    return prefixes[-1], others


def _tower_terms(params: AIONParams, delta: AIONParams, x: torch.Tensor, y: torch.Tensor, order: int) -> torch.Tensor:
    """Closed-form tower ``(B, K + 1, 4 r d P)`` for checked inputs; differentiable by torch.func."""
    term_series, atom_series = shifted_atom_series(params, delta, x, order)
    psi = term_series.real.sum(dim=-1)  # (K+1, B, N, r, d)
    products, others = _leave_one_out_series(psi)
    residual = products.sum(dim=-1)  # (K+1, B, N)
    residual = torch.cat([residual[:1] - y, residual[1:]])
    # dL/dψ_{j,i} as a series: (2/N) r · Π_{i'≠i} ψ_{j,i'}, broadcast over the P terms.
    weight = (2.0 / y.shape[-1]) * cauchy_product(residual[..., None, None], others)[..., None]
    xs = x[:, :, None, :, None]
    derivative_series = (
        atom_series.real,
        xs * term_series.real,
        -xs * term_series.imag,
        -term_series.imag,
    )
    blocks = [cauchy_product(weight, series).sum(dim=2) for series in derivative_series]  # (K+1, B, r, d, P)
    flat = torch.cat([block.reshape(order + 1, block.shape[1], -1) for block in blocks], dim=-1)
    return flat.transpose(0, 1)


def aion_tower(params: AIONParams, delta: AIONParams, x: torch.Tensor, y: torch.Tensor, order: int) -> torch.Tensor:
    """Compute the tower terms ``T_k(δ)`` of ∇L for AION in closed form, k = 0 … K.

    Parameters
    ----------
    params : the expansion point θ, tensors ``(B, r, d, P)``.
    delta : the step δ, same shape.
    x : inputs ``(N,)`` (d = 1), ``(N, d)`` or ``(B, N, d)``.
    y : targets ``(N,)`` or ``(B, N)``.
    order : the highest order K ≥ 0.

    Returns
    -------
    Tensor ``(B, K + 1, 4 r d P)``, real: ``[b, k]`` is ``T_k(δ)`` of problem b in the order of
    ``AIONParams.to_vector``. Row 0 is ``∇L(θ)``; the rows sum to ``∇L(θ + δ)`` as K → ∞.
    """
    if not isinstance(params, AIONParams) or not isinstance(delta, AIONParams):
        raise TypeError(
            f"params and delta must be AIONParams, got {type(params).__name__} and {type(delta).__name__}"
        )
    if delta.A.shape != params.A.shape or delta.dtype != params.dtype or delta.device != params.device:
        raise ValueError(
            f"delta ({tuple(delta.A.shape)}, {delta.dtype}, {delta.device}) must match params "
            f"({tuple(params.A.shape)}, {params.dtype}, {params.device})"
        )
    params.check_finite("params")
    delta.check_finite("delta")
    order = check_order(order)
    x = as_batched_inputs(x, params)
    y = check_targets(y, x, params)
    return _tower_terms(params, delta, x, y, order)


class AIONTower:
    """Truncated first-order conditions of one AION fit, from the closed-form tower.

    Provides the same methods as ``idlib.taylor.AutogradTower`` (loss, gradient, ``G_K(δ)``
    and its Jacobian ``J_K(δ)``) on the flat vector of ``AIONParams.to_vector`` order, at a
    cost that grows like K² rather than 3^K. ``J_K`` is formed by forward-mode differentiation
    of the closed-form ``G_K`` in δ, one tangent per parameter.

    Parameters
    ----------
    x : inputs ``(N,)`` (d = 1) or ``(N, d)`` of one problem.
    y : targets ``(N,)``.
    rank, dim, terms : the AION shape r, d, P.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, rank: int = 1, dim: int = 1, terms: int = 1) -> None:
        for name, value in (("rank", rank), ("dim", dim), ("terms", terms)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        template = AIONParams(*(torch.zeros(1, rank, dim, terms, dtype=x.dtype, device=x.device) for _ in range(4)))
        self.x = as_batched_inputs(x, template)
        self.y = check_targets(y, self.x, template)
        if self.x.shape[0] != 1:
            raise ValueError(f"AIONTower takes one problem, got x with batch size {self.x.shape[0]}")
        self.rank, self.dim, self.terms = rank, dim, terms
        self.n_params = template.n_params

    def _params(self, theta: torch.Tensor) -> AIONParams:
        return AIONParams.from_vector(theta, self.rank, self.dim, self.terms)

    def _check(self, theta, argument: str, reference: torch.Tensor | None = None) -> torch.Tensor:
        theta = check_flat_parameters(theta, argument, reference)
        if theta.numel() != self.n_params:
            raise ValueError(f"{argument} has {theta.numel()} entries but the model has {self.n_params} parameters")
        return theta

    def loss(self, theta: torch.Tensor) -> torch.Tensor:
        """Return ``L(θ)`` as a scalar tensor."""
        theta = self._check(theta, "theta")
        with torch.no_grad():
            return mse_loss(self._params(theta), self.x, self.y)[0]

    def gradient(self, theta: torch.Tensor) -> torch.Tensor:
        """Return ``∇L(θ)`` from the resummed tower at δ = 0, shape ``(n,)``."""
        theta = self._check(theta, "theta")
        params = self._params(theta)
        zero = AIONParams(*(torch.zeros_like(t) for t in params.tensors()))
        with torch.no_grad():
            return resummed_gradient(params, zero, self.x, self.y)[1].to_vector()[0]

    def tower(self, theta: torch.Tensor, delta: torch.Tensor, order: int) -> torch.Tensor:
        """Return the tower terms ``(K + 1, n)`` for one problem."""
        theta = self._check(theta, "theta")
        delta = self._check(delta, "delta", theta)
        order = check_order(order)
        with torch.no_grad():
            return _tower_terms(self._params(theta), self._params(delta), self.x, self.y, order)[0]

    def truncated_gradient(self, theta: torch.Tensor, delta: torch.Tensor, order: int) -> torch.Tensor:
        """Return ``G_K(δ) = Σ_{k≤K} T_k(δ)``, shape ``(n,)``."""
        return self.tower(theta, delta, order).sum(dim=0)

    def truncated_jacobian(self, theta: torch.Tensor, delta: torch.Tensor, order: int) -> torch.Tensor:
        """Return the Jacobian ``J_K(δ)`` of ``G_K`` in δ, shape ``(n, n)``, symmetric."""
        theta = self._check(theta, "theta")
        delta = self._check(delta, "delta", theta)
        order = check_order(order)
        if order < 1:
            raise ValueError(f"the Jacobian of G_K in delta needs order >= 1, got {order}")
        params = self._params(theta)

        def condition(step):
            return _tower_terms(params, self._params(step), self.x, self.y, order)[0].sum(dim=0)

        with torch.no_grad():
            jacobian = torch.func.jacfwd(condition)(delta)
        return 0.5 * (jacobian + jacobian.T)


def tower_term_norms(terms: torch.Tensor) -> torch.Tensor:
    """Euclidean norms ``‖T_k‖₂`` of a tower ``(K + 1, n)``, shape ``(K + 1,)``."""
    return terms.norm(dim=-1)


def root_test_sequence(norms: torch.Tensor) -> torch.Tensor:
    """Return ``(max_{j≥k} ‖T_j‖)^{1/k}`` for k = 1 … K (Cauchy–Hadamard root test).

    For a series with radius of convergence ρ in t the sequence tends to ``1/ρ``; for an entire
    series it tends to zero. The tail maximum smooths out orders at which a term happens to be
    small. Entries for zero tails are zero.
    """
    if norms.ndim != 1 or norms.numel() < 2:
        raise ValueError(f"norms must be a one-dimensional tensor with at least two orders, got {tuple(norms.shape)}")
    tails = torch.flip(torch.cummax(torch.flip(norms, (0,)), dim=0).values, (0,))
    ks = torch.arange(1, norms.numel(), dtype=norms.dtype, device=norms.device)
    return tails[1:] ** (1.0 / ks)


def factorial_scaled_norms(norms: torch.Tensor, scale: float) -> torch.Tensor:
    """Return ``‖T_k‖ k! / scale^k``, bounded in k for a series of exponential type at most ``scale``."""
    ks = torch.arange(norms.numel(), dtype=norms.dtype, device=norms.device)
    log_factorials = torch.lgamma(ks + 1)
    return norms * torch.exp(log_factorials - ks * math.log(scale))


def aion_truncation_errors(
    params: AIONParams, direction: AIONParams, x: torch.Tensor, y: torch.Tensor, step_sizes, max_order: int
) -> torch.Tensor:
    """Relative errors of the truncated closed-form tower against the resummed gradient.

    Entry ``[s, K]`` is ``‖Σ_{k≤K} T_k(h_s δ) - ∇L(θ + h_s δ)‖₂ / ‖∇L(θ)‖₂`` for one
    problem (a batch of one), with ``∇L(θ + h δ)`` from ``idlib.tower.resummed_gradient``.
    Shape ``(S, K_max + 1)``.
    """
    if params.batch_size != 1:
        raise ValueError(f"aion_truncation_errors takes one problem, got a batch of {params.batch_size}")
    terms = aion_tower(params, direction, x, y, max_order)[0]
    exact = []
    for h in step_sizes:
        step = AIONParams(*(float(h) * t for t in direction.tensors()))
        exact.append(resummed_gradient(params, step, x, y)[1].to_vector()[0])
    return truncation_errors(terms, torch.stack(exact), step_sizes, relative=True)
