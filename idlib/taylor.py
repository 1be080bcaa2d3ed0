"""The Taylor tower of a loss gradient, for any differentiable torch loss.

For a step δ from the point θ the gradient at the new point expands as

    ∇L(θ + δ) = Σ_{k≥0} T_k(δ),    T_k(δ) = (1/k!) ∇^{k+1} L(θ)[δ, …, δ]   (k copies of δ).

``T_k`` is the k-th Taylor coefficient in t of the curve ``g(t) = ∇L(θ + t δ)`` at t = 0, so
``T_k(δ) = (1/k!) d^k/dt^k ∇L(θ + t δ)``. It is computed by nesting forward-mode derivatives
(``torch.func.jvp``) in the direction δ around reverse-mode ``torch.func.grad``. Each level
returns a vector of the size of θ, so no tensor ``∇^{k+1} L`` with ``n^{k+1}`` entries is ever
formed. Truncating after ``k = K`` gives the order-K truncated gradient
``G_K(δ) = Σ_{k≤K} T_k(δ)``. The root of ``G_1(δ) = ∇L + ∇²L δ`` is Newton's step.

Cost: nested forward mode propagates ``2^K`` tangent components and every product rule triples
the operations, so one tower costs a few times ``3^K`` gradient evaluations (measured with
torch 2.13 on a 2-core CPU for the 4-parameter AION test problem: about 1.5 ms at K = 0,
0.09 s at K = 4 and 0.9 s at K = 6). It is the reference for every model; the AION tower of
``idlib.aion_tower`` sums the same terms in closed form at a cost growing like ``K²``.

Reference: R. T. Batley and S. Saha, "The Method of Infinite Descent", arXiv:2510.05489 (2025).
"""

from __future__ import annotations

import math
from typing import Callable

import torch

LossFunction = Callable[[torch.Tensor], torch.Tensor]


def check_flat_parameters(value, argument: str, reference: torch.Tensor | None = None) -> torch.Tensor:
    """Raise unless ``value`` is a finite one-dimensional floating tensor (matching ``reference``)."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{argument} must be a torch.Tensor, got {type(value).__name__}; convert with torch.as_tensor")
    if value.ndim != 1:
        raise ValueError(
            f"{argument} must be a flat parameter vector of shape (n,), got shape {tuple(value.shape)}; "
            "flatten it, for example with AIONParams.to_vector()[0]"
        )
    if not value.is_floating_point():
        raise TypeError(f"{argument} must be a real floating tensor, got dtype {value.dtype}; use torch.float64")
    if reference is not None:
        if value.shape != reference.shape:
            raise ValueError(f"{argument} has shape {tuple(value.shape)} but theta has {tuple(reference.shape)}")
        if value.dtype != reference.dtype or value.device != reference.device:
            raise TypeError(
                f"{argument} is {value.dtype} on {value.device} but theta is {reference.dtype} on "
                f"{reference.device}; convert one to match"
            )
    if not bool(torch.isfinite(value).all()):
        raise ValueError(f"{argument} contains NaN or infinite values; pass finite values")
    return value


def check_order(order, argument: str = "order") -> int:
    """Raise unless ``order`` is a non-negative integer; return it as ``int``."""
    if isinstance(order, bool) or not isinstance(order, int):
        raise TypeError(f"{argument} must be a non-negative int, got {order!r} of type {type(order).__name__}")
    if order < 0:
        raise ValueError(f"{argument} must be a non-negative int, got {order}")
    return order


def _check_loss(loss) -> None:
    if not callable(loss):
        raise TypeError(f"loss must be a callable mapping a flat parameter tensor to a scalar, got {type(loss).__name__}")


def directional_derivatives(loss: LossFunction, direction: torch.Tensor, order: int) -> Callable:
    """Build ``θ ↦ (f_0(θ), …, f_K(θ))`` with ``f_k(θ) = ∇^{k+1} L(θ)[δ^k]`` for δ = ``direction``.

    ``f_0 = ∇L`` comes from ``torch.func.grad``. Each further level applies ``torch.func.jvp`` in
    the direction δ to the previous tuple: the jvp of ``(f_0, …, f_{k-1})`` returns the primals
    and the tangents ``(f_1, …, f_k)``, so one call yields every order up to K. The returned
    function is itself differentiable by ``torch.func``. A jvp of it in a second direction v
    gives ``∇^{k+2} L(θ)[δ^k, v]`` for every k, and ``AutogradTower`` builds the Jacobian of the
    truncated condition that way.
    """
    gradient = torch.func.grad(loss)

    def level_zero(theta):
        return (gradient(theta),)

    levels = level_zero
    for _ in range(order):
        levels = _next_level(levels, direction)
    return levels


def _next_level(previous: Callable, direction: torch.Tensor) -> Callable:
    def levels(theta):
        primals, tangents = torch.func.jvp(previous, (theta,), (direction,))
        return (primals[0],) + tuple(tangents)

    return levels


def taylor_tower(loss: LossFunction, theta: torch.Tensor, delta: torch.Tensor, order: int) -> torch.Tensor:
    """Compute the tower terms ``T_k(δ) = (1/k!) ∇^{k+1} L(θ)[δ^k]`` for k = 0 … K.

    Parameters
    ----------
    loss : callable mapping a flat parameter tensor of shape ``(n,)`` to a scalar tensor, built
        from torch operations that ``torch.func`` can differentiate (no ``.item()``, no in-place
        writes to the input).
    theta : the expansion point θ, shape ``(n,)``, floating (float64 recommended).
    delta : the step δ, same shape, dtype and device as ``theta``.
    order : the highest order K ≥ 0.

    Returns
    -------
    Tensor of shape ``(K + 1, n)``: row k is ``T_k(δ)``; row 0 is ``∇L(θ)``.
    """
    _check_loss(loss)
    theta = check_flat_parameters(theta, "theta")
    delta = check_flat_parameters(delta, "delta", theta)
    order = check_order(order)
    with torch.no_grad():
        derivatives = directional_derivatives(loss, delta, order)(theta)
    return torch.stack([value / math.factorial(k) for k, value in enumerate(derivatives)])


def truncated_gradient(loss: LossFunction, theta: torch.Tensor, delta: torch.Tensor, order: int) -> torch.Tensor:
    """Return the order-K truncated gradient ``G_K(δ) = Σ_{k≤K} T_k(δ)``, shape ``(n,)``.

    ``G_K`` is the gradient in δ of the degree-(K+1) Taylor polynomial of L around θ, so its
    roots are the stationary points of that polynomial model.
    """
    return taylor_tower(loss, theta, delta, order).sum(dim=0)


def partial_sums(terms: torch.Tensor) -> torch.Tensor:
    """Cumulative sums ``Σ_{k≤K} T_k`` along the first axis of a tower ``(K + 1, …)``."""
    return torch.cumsum(terms, dim=0)


def scaled_tower(terms: torch.Tensor, step_size: float) -> torch.Tensor:
    """Tower terms for the step ``h δ`` from those for δ: ``T_k(h δ) = h^k T_k(δ)`` (degree k in δ)."""
    powers = step_size ** torch.arange(terms.shape[0], dtype=terms.dtype, device=terms.device)
    return terms * powers.reshape(-1, *([1] * (terms.ndim - 1)))


def exact_gradient(loss: LossFunction, theta: torch.Tensor) -> torch.Tensor:
    """Return ``∇L(θ)`` by reverse-mode autograd, shape ``(n,)``."""
    _check_loss(loss)
    theta = check_flat_parameters(theta, "theta")
    with torch.no_grad():
        return torch.func.grad(loss)(theta)


def truncation_errors(
    terms: torch.Tensor, exact_gradients: torch.Tensor, step_sizes, relative: bool = False
) -> torch.Tensor:
    """Errors ``‖Σ_{k≤K} T_k(h δ) - ∇L(θ + h δ)‖₂`` of every truncation, for several step sizes.

    Parameters
    ----------
    terms : the tower ``(K_max + 1, n)`` for the unit step δ.
    exact_gradients : ``(S, n)``, the gradient ``∇L(θ + h_s δ)`` at each step size.
    step_sizes : S positive numbers ``h_s``.
    relative : divide each error by ``‖∇L(θ)‖₂ = ‖T_0‖₂``, the gradient at the expansion point
        (unlike ``‖∇L(θ + h δ)‖₂`` it stays away from zero when the step lands on a minimiser).

    Returns
    -------
    Tensor ``(S, K_max + 1)``; entry ``[s, K]`` is the error of the order-K truncation at ``h_s``.
    """
    step_sizes = [float(h) for h in step_sizes]
    if terms.ndim != 2:
        raise ValueError(f"terms must have shape (K + 1, n), got {tuple(terms.shape)}")
    if exact_gradients.shape != (len(step_sizes), terms.shape[1]):
        raise ValueError(
            f"exact_gradients must have shape ({len(step_sizes)}, {terms.shape[1]}) for {len(step_sizes)} step sizes, "
            f"got {tuple(exact_gradients.shape)}"
        )
    scale = terms[0].norm() if relative else torch.ones((), dtype=terms.dtype, device=terms.device)
    rows = [(partial_sums(scaled_tower(terms, h)) - exact).norm(dim=1) / scale for h, exact in zip(step_sizes, exact_gradients)]
    return torch.stack(rows)


def loglog_slope(step_sizes, errors) -> float:
    """Least-squares slope of ``log(error)`` against ``log(step size)``.

    An error that behaves like ``C h^p`` gives the slope p. The order-K truncation error of the
    tower behaves like ``‖T_{K+1}‖ h^{K+1}`` for small h, so its slope is K + 1.
    """
    h = torch.as_tensor([float(value) for value in step_sizes], dtype=torch.float64)
    e = torch.as_tensor([float(value) for value in errors], dtype=torch.float64)
    if h.numel() != e.numel() or h.numel() < 2:
        raise ValueError(f"need at least two step sizes and one error per step size, got {h.numel()} and {e.numel()}")
    if bool((h <= 0).any()) or bool((e <= 0).any()):
        raise ValueError("step sizes and errors must be positive to take logarithms; drop zero errors first")
    log_h, log_e = h.log(), e.log()
    centred = log_h - log_h.mean()
    return float((centred * (log_e - log_e.mean())).sum() / centred.pow(2).sum())


class AutogradTower:
    """Truncated first-order conditions of any torch loss, by nested forward mode.

    The order-K condition is ``G_K(δ) = Σ_{k≤K} T_k(δ) = 0``. Its Jacobian in δ is

        J_K(δ) = Σ_{k=1}^{K} (1/(k-1)!) ∇^{k+1} L(θ)[δ^{k-1}, ·],

    the Hessian of the degree-(K+1) Taylor polynomial of L at δ; ``J_1 = ∇²L(θ)``. A column
    ``J_K(δ) v`` equals the derivative in θ, in the direction v, of ``Σ_{j<K} f_j(θ)/j!`` with
    ``f_j = ∇^{j+1} L(θ)[δ^j]``, so it is one jvp of the order-(K-1) nested tower.

    Parameters
    ----------
    loss : callable mapping a flat parameter tensor ``(n,)`` to a scalar tensor.
    """

    def __init__(self, loss: LossFunction) -> None:
        _check_loss(loss)
        self._loss = loss
        self._gradient = torch.func.grad(loss)

    def loss(self, theta: torch.Tensor) -> torch.Tensor:
        """Return ``L(θ)`` as a scalar tensor."""
        with torch.no_grad():
            return self._loss(theta)

    def gradient(self, theta: torch.Tensor) -> torch.Tensor:
        """Return ``∇L(θ)``, shape ``(n,)``."""
        with torch.no_grad():
            return self._gradient(theta)

    def truncated_gradient(self, theta: torch.Tensor, delta: torch.Tensor, order: int) -> torch.Tensor:
        """Return ``G_K(δ) = Σ_{k≤K} T_k(δ)``, shape ``(n,)``."""
        return truncated_gradient(self._loss, theta, delta, order)

    def truncated_jacobian(self, theta: torch.Tensor, delta: torch.Tensor, order: int) -> torch.Tensor:
        """Return the dense Jacobian ``J_K(δ)`` of ``G_K`` in δ, shape ``(n, n)``, from n jvps."""
        order = check_order(order)
        if order < 1:
            raise ValueError(f"the Jacobian of G_K in delta needs order >= 1, got {order}")
        weights = [1.0 / math.factorial(j) for j in range(order)]
        levels = directional_derivatives(self._loss, delta, order - 1)

        def weighted(point):
            return sum(weight * value for weight, value in zip(weights, levels(point)))

        basis = torch.eye(theta.numel(), dtype=theta.dtype, device=theta.device)
        with torch.no_grad():
            columns = [torch.func.jvp(weighted, (theta,), (basis[i],))[1] for i in range(theta.numel())]
        jacobian = torch.stack(columns, dim=1)
        return 0.5 * (jacobian + jacobian.T)


def truncation_slopes(
    loss: LossFunction, theta: torch.Tensor, direction: torch.Tensor, step_sizes, max_order: int
) -> list[float]:
    """Fitted log-log slopes of the truncation error against the step size, for K = 0 … K_max.

    For each step size h the exact gradient ``∇L(θ + h δ)`` comes from reverse-mode autograd
    and the truncations from one nested-forward tower at δ = ``direction`` (scaled by ``h^k``).
    Entry K is ``loglog_slope`` of ``‖Σ_{k≤K} T_k(h δ) - ∇L(θ + h δ)‖`` over the step sizes;
    for a smooth loss and small enough h it is K + 1.
    """
    terms = taylor_tower(loss, theta, direction, max_order)
    exact = torch.stack([exact_gradient(loss, theta + float(h) * direction) for h in step_sizes])
    errors = truncation_errors(terms, exact, step_sizes)
    return [loglog_slope(step_sizes, errors[:, order]) for order in range(max_order + 1)]
