"""Models outside the Infinity Class: a tanh unit and a small tanh network.

A tanh unit ``f(x) = a tanh(w x + b)`` is analytic in its parameters, but not entire:
``tanh z`` has simple poles at ``z = iπ(m + 1/2)`` for every integer m. Along a step
``θ + t δ`` with ``θ = (a, w, b)`` and ``δ = (Δa, Δw, Δb)`` the argument at the point x_n is
``z_n + t u_n`` with ``z_n = w x_n + b`` and ``u_n = Δw x_n + Δb``, so the Taylor tower of
``∇L(θ + t δ)`` in t converges only for ``|t| < ρ`` with

    ρ = min_n min_m |iπ(m + 1/2) - z_n| / |u_n| = min_n sqrt(z_n² + π²/4) / |u_n|   (real z_n),

and diverges beyond. ``tanh_unit_tower`` computes the tower in closed form from the Taylor
coefficients of tanh, which follow from the differential equation ``τ' = 1 - τ²``:

    τ_0 = tanh z,   (k + 1) τ_{k+1} = [k = 0] - Σ_{m=0}^{k} τ_m τ_{k-m},

where ``tanh(z + s) = Σ_k τ_k s^k``. The loss is the mean squared error
``L = (1/N) Σ_n (f(x_n) - y_n)²``, as for AION.
"""

from __future__ import annotations

import math

import torch

from .aion_tower import cauchy_product
from .taylor import check_flat_parameters, check_order, exact_gradient, truncation_errors

TANH_UNIT_NAMES = ("a", "w", "b")


def _check_data(x, y, reference: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Raise unless x and y are matching finite one-dimensional floating tensors (matching ``reference``)."""
    for name, value in (("x", x), ("y", y)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}; convert with torch.as_tensor")
        if value.ndim != 1 or value.numel() == 0:
            raise ValueError(f"{name} must be a non-empty one-dimensional tensor (N,), got shape {tuple(value.shape)}")
        if not value.is_floating_point():
            raise TypeError(f"{name} must be a floating tensor, got dtype {value.dtype}; use torch.float64")
        if not bool(torch.isfinite(value).all()):
            raise ValueError(f"{name} contains NaN or infinite values; pass finite data")
    if x.shape != y.shape:
        raise ValueError(f"x has {x.numel()} points but y has {y.numel()}; pass one target per input")
    if y.dtype != x.dtype or y.device != x.device:
        raise TypeError(f"y is {y.dtype} on {y.device} but x is {x.dtype} on {x.device}; convert one to match")
    if reference is not None and (x.dtype != reference.dtype or x.device != reference.device):
        raise TypeError(
            f"x is {x.dtype} on {x.device} but theta is {reference.dtype} on {reference.device}; convert one to match"
        )
    return x, y


def tanh_unit(theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Evaluate ``f(x) = a tanh(w x + b)`` for ``θ = (a, w, b)``; returns shape ``(N,)``."""
    amplitude, weight, bias = theta[0], theta[1], theta[2]
    return amplitude * torch.tanh(weight * x + bias)


def tanh_unit_loss(x: torch.Tensor, y: torch.Tensor):
    """Return ``θ ↦ (1/N) Σ_n (a tanh(w x_n + b) - y_n)²`` for a flat ``θ = (a, w, b)``."""
    x, y = _check_data(x, y)

    def loss(theta: torch.Tensor) -> torch.Tensor:
        return (tanh_unit(theta, x) - y).pow(2).mean()

    return loss


def tanh_taylor_coefficients(z: torch.Tensor, order: int) -> torch.Tensor:
    """Taylor coefficients ``τ_k`` of ``tanh(z + s)`` in s, for k = 0 … K; shape ``(K + 1, *z.shape)``.

    Computed from ``τ' = 1 - τ²`` by the recurrence in the module docstring. For real z the
    coefficients decay like ``|z ± iπ/2|^{-k}``, the distance to the nearest pole.
    """
    order = check_order(order)
    coefficients = [torch.tanh(z)]
    for k in range(order):
        square = sum(coefficients[m] * coefficients[k - m] for m in range(k + 1))
        constant = 1.0 if k == 0 else 0.0
        coefficients.append((constant - square) / (k + 1))
    return torch.stack(coefficients)


def tanh_unit_tower(theta: torch.Tensor, delta: torch.Tensor, x: torch.Tensor, y: torch.Tensor, order: int) -> torch.Tensor:
    """Compute the tower terms ``T_k(δ)`` of ∇L for a tanh unit in closed form, k = 0 … K.

    With ``τ_k`` the Taylor coefficients of tanh at ``z_n = w x_n + b`` and ``u_n = Δw x_n + Δb``,
    the t-series of the pieces of ``∇L(θ + t δ)`` are

        tanh:   c_k = τ_k u^k,
        sech²:  s_k = (k + 1) τ_{k+1} u^k        (sech² = d tanh / dz),
        f:      a c_k + Δa c_{k-1},
        ∂f/∂a = c_k,  ∂f/∂w = x (a s_k + Δa s_{k-1}),  ∂f/∂b = a s_k + Δa s_{k-1},

    and ``T_k = (2/N) Σ_n Σ_{m≤k} r_m ∇f_{k-m}`` with the residual series ``r_k = f_k - y [k = 0]``.

    Parameters
    ----------
    theta : ``(a, w, b)``, shape ``(3,)``.
    delta : the step ``(Δa, Δw, Δb)``, shape ``(3,)``.
    x, y : data, each ``(N,)``.
    order : the highest order K.

    Returns
    -------
    Tensor ``(K + 1, 3)``; row k is ``T_k(δ)`` in the order (a, w, b).
    """
    theta = check_flat_parameters(theta, "theta")
    if theta.numel() != 3:
        raise ValueError(f"theta must be (a, w, b) with 3 entries, got {theta.numel()}")
    delta = check_flat_parameters(delta, "delta", theta)
    x, y = _check_data(x, y, theta)
    order = check_order(order)
    amplitude, weight, bias = theta
    amplitude_step, weight_step, bias_step = delta
    z = weight * x + bias
    u = weight_step * x + bias_step
    tau = tanh_taylor_coefficients(z, order + 1)  # one extra order for sech²
    powers = torch.stack([u**k for k in range(order + 1)])
    ks = torch.arange(order + 1, dtype=x.dtype, device=x.device)[:, None]
    tanh_series = tau[: order + 1] * powers
    sech2_series = (ks + 1) * tau[1 : order + 2] * powers

    def amplitude_times(series):
        shifted = torch.cat([torch.zeros_like(series[:1]), series[:-1]])
        return amplitude * series + amplitude_step * shifted

    model_series = amplitude_times(tanh_series)
    residual = model_series.clone()
    residual[0] = residual[0] - y
    slope_series = amplitude_times(sech2_series)
    derivative_series = torch.stack([tanh_series, x * slope_series, slope_series], dim=-1)  # (K+1, N, 3)
    products = cauchy_product(residual[..., None], derivative_series)
    return (2.0 / x.numel()) * products.sum(dim=1)


def tanh_unit_radius(theta: torch.Tensor, delta: torch.Tensor, x: torch.Tensor) -> float:
    """Radius of convergence in t of the tower of ``∇L(θ + t δ)`` for a tanh unit.

    ``ρ = min_n |z_n - iπ/2| / |u_n|`` over the points with ``u_n ≠ 0`` (see the module
    docstring). Returns ``inf`` when the step leaves every argument unchanged (``u = 0``),
    because then only the amplitude moves and the tower stops after order one.
    """
    theta = check_flat_parameters(theta, "theta")
    delta = check_flat_parameters(delta, "delta", theta)
    z = theta[1] * x + theta[2]
    u = delta[1] * x + delta[2]
    moving = u != 0
    if not bool(moving.any()):
        return math.inf
    distances = torch.sqrt(z[moving] ** 2 + (math.pi / 2) ** 2) / u[moving].abs()
    return float(distances.min())


def tanh_network_loss(x: torch.Tensor, y: torch.Tensor, hidden: int):
    """Return the loss of a one-hidden-layer tanh network and its parameter count.

    ``f(x) = Σ_{j=1}^{H} v_j tanh(w_j x + b_j) + c`` with θ = (w_1…w_H, b_1…b_H, v_1…v_H, c), so
    ``n = 3H + 1``; the loss is ``(1/N) Σ_n (f(x_n) - y_n)²``.

    Returns
    -------
    (loss, n_params) where ``loss`` maps a flat ``(3H + 1,)`` tensor to a scalar.
    """
    if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 1:
        raise ValueError(f"hidden must be a positive int (the number of tanh units), got {hidden!r}")
    x, y = _check_data(x, y)

    def loss(theta: torch.Tensor) -> torch.Tensor:
        weights = theta[:hidden]
        biases = theta[hidden : 2 * hidden]
        outputs = theta[2 * hidden : 3 * hidden]
        offset = theta[3 * hidden]
        prediction = torch.tanh(x[:, None] * weights + biases) @ outputs + offset
        return (prediction - y).pow(2).mean()

    return loss, 3 * hidden + 1


def tanh_truncation_errors(theta: torch.Tensor, direction: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
                           step_sizes, max_order: int) -> torch.Tensor:
    """Relative errors ``‖Σ_{k≤K} T_k(h δ) - ∇L(θ + h δ)‖ / ‖∇L(θ)‖`` of a tanh unit, ``(S, K_max + 1)``.

    The terms come from ``tanh_unit_tower`` at δ = ``direction`` and the exact gradients from
    reverse-mode autograd. Beyond the radius ``tanh_unit_radius`` the errors grow with K.
    """
    terms = tanh_unit_tower(theta, direction, x, y, max_order)
    loss = tanh_unit_loss(x, y)
    exact = torch.stack([exact_gradient(loss, theta + float(h) * direction) for h in step_sizes])
    return truncation_errors(terms, exact, step_sizes, relative=True)


# The tanh-unit instance of the derivation notebook: 41 equally spaced points on [-3, 3],
# noise-free targets from (a, w, b) = (1, 1.5, -0.3), start (0.6, 0.5, 0.4). From this start the
# step to the minimiser is about 1.9 times the radius of convergence of the tower along it.
TANH_UNIT_GRID = (-3.0, 3.0, 41)
TANH_UNIT_TRUTH = (1.0, 1.5, -0.3)
TANH_UNIT_START = (0.6, 0.5, 0.4)


def tanh_unit_problem(device: torch.device | str = "cpu", dtype: torch.dtype = torch.float64):
    """Return ``(x, y, theta0, truth)`` of the tanh-unit instance described above."""
    start, stop, points = TANH_UNIT_GRID
    x = torch.linspace(start, stop, points, dtype=dtype, device=device)
    truth = torch.tensor(TANH_UNIT_TRUTH, dtype=dtype, device=device)
    theta0 = torch.tensor(TANH_UNIT_START, dtype=dtype, device=device)
    return x, tanh_unit(truth, x), theta0, truth
