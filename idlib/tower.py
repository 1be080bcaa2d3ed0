"""The resummed Taylor tower of the AION loss gradient.

For a step δ the first-order condition at the new point is

    ∇L(θ + δ) = Σ_{k≥0} (1/k!) ∇^{k+1} L(θ)[δ, …, δ]   (k copies of δ).

For an AION atom the tower sums in closed form. Shifting the parameters of one term by
``δ = (ΔA, Δα, Δω, Δφ)`` multiplies its complex form by a known factor,

    (A + ΔA) exp((α + Δα) x + i((ω + Δω) x + φ + Δφ))
        = (A + ΔA) · E(x) · M(x),     E = exp(α x + i(ω x + φ)),
                                       M = exp(Δα x + i(Δω x + Δφ)) = Σ_k (Δs x + iΔφ)^k / k!,

with ``Δs = Δα + iΔω``. The series for ``M`` is the whole Taylor tower in (Δα, Δω, Δφ); the
amplitude enters linearly, so its tower stops after the first order. Every derivative of a term
is again the same shifted atom times a power of ``x`` or ``i``:

    ∂/∂A = Re[E M],  ∂/∂α = x Re[A' E M],  ∂/∂ω = -x Im[A' E M],  ∂/∂φ = -Im[A' E M],

where ``A' = A + ΔA``. ``resummed_gradient`` evaluates ∇L(θ + δ) from the atoms at θ and these
multipliers, with no truncation, for the mean squared error of ``aion.mse_loss``.
"""

from __future__ import annotations

import torch

from .aion import AIONParams, as_batched_inputs, complex_atoms
from .data import check_targets


def shift_multiplier(delta: AIONParams, x: torch.Tensor) -> torch.Tensor:
    """Return ``M = exp(Δα x + i(Δω x + Δφ))`` of shape ``(B, N, r, d, P)``, complex.

    The amplitude shift ΔA is not part of ``M``; it enters linearly as ``A + ΔA``.
    """
    zero_amplitude = AIONParams(torch.zeros_like(delta.A), delta.alpha, delta.omega, delta.phi)
    return complex_atoms(zero_amplitude, x)


def leave_one_out_product(values: torch.Tensor, dim: int) -> torch.Tensor:
    """Product of all entries along ``dim`` except the one at each position (no division)."""
    ones_shape = list(values.shape)
    ones_shape[dim] = 1
    ones = torch.ones(ones_shape, dtype=values.dtype, device=values.device)
    length = values.shape[dim]
    prefix = torch.cumprod(torch.cat([ones, values.narrow(dim, 0, length - 1)], dim=dim), dim=dim)
    flipped = values.flip(dim)
    suffix = torch.cumprod(torch.cat([ones, flipped.narrow(dim, 0, length - 1)], dim=dim), dim=dim).flip(dim)
    return prefix * suffix


def shifted_terms(params: AIONParams, delta: AIONParams, x: torch.Tensor):
    """Return the shifted complex terms ``A' E M`` and the shifted atoms ``E M``, each ``(B, N, r, d, P)``."""
    shifted_atoms = complex_atoms(params, x) * shift_multiplier(delta, x)
    amplitude = (params.A + delta.A)[:, None]
    return amplitude * shifted_atoms, shifted_atoms


def resummed_gradient(
    params: AIONParams, delta: AIONParams, x: torch.Tensor, y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Evaluate the loss and its gradient at ``θ + δ`` through the resummed tower.

    Parameters
    ----------
    params : the expansion point θ, tensors of shape ``(B, r, d, P)``.
    delta : the step δ, same shape as ``params``.
    x : inputs, ``(N,)``, ``(N, d)`` or ``(B, N, d)``.
    y : targets, ``(N,)`` or ``(B, N)``.

    Returns
    -------
    loss : ``(B,)``, the mean squared error at θ + δ.
    gradient : AIONParams holding ∂L/∂A, ∂L/∂α, ∂L/∂ω, ∂L/∂φ at θ + δ, each ``(B, r, d, P)``.
    """
    if delta.A.shape != params.A.shape:
        raise ValueError(f"delta has shape {tuple(delta.A.shape)} but params have {tuple(params.A.shape)}")
    x = as_batched_inputs(x, params)
    y = check_targets(y, x, params)
    terms, atoms = shifted_terms(params, delta, x)
    psi = terms.real.sum(dim=-1)  # (B, N, r, d): the shifted one-dimensional atoms ψ
    prediction = psi.prod(dim=-1).sum(dim=-1)  # (B, N)
    residual = prediction - y
    n_points = residual.shape[-1]
    loss = residual.pow(2).mean(dim=-1)

    # dL/dψ_{j,i}(x_n) = (2/N) r_n Π_{k≠i} ψ_{j,k}(x_n); broadcast over the P terms.
    weight = (2.0 / n_points) * residual[:, :, None, None] * leave_one_out_product(psi, dim=-1)
    weight = weight[..., None]
    xs = x[:, :, None, :, None]
    grad_A = (weight * atoms.real).sum(dim=1)
    grad_alpha = (weight * xs * terms.real).sum(dim=1)
    grad_omega = -(weight * xs * terms.imag).sum(dim=1)
    grad_phi = -(weight * terms.imag).sum(dim=1)
    return loss, AIONParams(grad_A, grad_alpha, grad_omega, grad_phi)
