"""The Jacobian of the AION model with respect to its parameters, in closed form.

For the model of ``aion``,

    f(x; θ) = Σ_j Π_i ψ_ij(x_i),    ψ_ij(x_i) = Σ_p A_ijp exp(α_ijp x_i) cos(ω_ijp x_i + φ_ijp),

write ``Ψ_ij(x) = Π_{i' ≠ i} ψ_i'j(x_i')`` for the product of the other factors of rank term j
(``Ψ_ij = 1`` when d = 1), and ``e = exp(α_ijp x_i)``, ``c = cos(ω_ijp x_i + φ_ijp)``,
``s = sin(ω_ijp x_i + φ_ijp)``. Then

    ∂f/∂A_ijp = Ψ_ij e c,          ∂f/∂α_ijp = Ψ_ij A_ijp x_i e c,
    ∂f/∂ω_ijp = -Ψ_ij A_ijp x_i e s,   ∂f/∂φ_ijp = -Ψ_ij A_ijp e s.

``Ψ_ij`` is formed from prefix and suffix products over i, not by dividing by ψ_ij, so a
factor that vanishes at some x_n does not produce 0/0. For the residuals ``r = f - y`` of the
mean squared error ``L = (1/N) Σ_n r_n²`` the gradient is ``∇L = (2/N) Jᵀ r``.
"""

from __future__ import annotations

import torch

from .aion import AIONParams, aion, as_batched_inputs
from .data import check_targets


def aion_jacobian(params: AIONParams, x: torch.Tensor) -> torch.Tensor:
    """Evaluate the Jacobian ``J[b, n, k] = ∂f(x_n; θ_b)/∂θ_k`` of a batch of AION models.

    Parameters
    ----------
    params : AIONParams
        Models with tensors of shape ``(B, r, d, P)``.
    x : torch.Tensor
        Inputs of shape ``(N,)`` (only when d = 1), ``(N, d)`` or ``(B, N, d)``, in the dtype
        and on the device of ``params``.

    Returns
    -------
    torch.Tensor
        Shape ``(B, N, 4 r d P)``; the columns follow ``AIONParams.to_vector`` (all A, then
        all α, all ω and all φ, each row-major in (j, i, p)).
    """
    if not isinstance(params, AIONParams):
        raise TypeError(f"params must be AIONParams, got {type(params).__name__}")
    x = as_batched_inputs(x, params)
    batch, n_points = params.batch_size, x.shape[1]
    xs = x[:, :, None, :, None]  # (B or 1, N, 1, d, 1)
    A, alpha, omega, phi = (t[:, None] for t in params.tensors())  # (B, 1, r, d, P)
    envelope = torch.exp(alpha * xs)
    angle = omega * xs + phi
    cosine = envelope * torch.cos(angle)
    sine = envelope * torch.sin(angle)
    psi = (A * cosine).sum(dim=-1)  # (B, N, r, d)

    ones = torch.ones_like(psi[..., :1])
    prefix = torch.cat([ones, psi[..., :-1]], dim=-1).cumprod(dim=-1)
    suffix = torch.cat([psi[..., 1:], ones], dim=-1).flip(-1).cumprod(dim=-1).flip(-1)
    others = (prefix * suffix)[..., None]  # (B, N, r, d, 1)

    columns = (
        others * cosine,
        others * A * xs * cosine,
        -others * A * xs * sine,
        -others * A * sine,
    )
    blocks = [block.expand(batch, n_points, *block.shape[2:]).reshape(batch, n_points, -1) for block in columns]
    return torch.cat(blocks, dim=2)


def aion_residual_and_jacobian(
    params: AIONParams, x: torch.Tensor, y: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the residuals ``r = f(x; θ) - y`` of shape ``(B, N)`` and the Jacobian ``∂r/∂θ = ∂f/∂θ``.

    ``y`` has shape ``(N,)`` or ``(B, N)``; see ``aion_jacobian`` for ``x`` and the Jacobian.
    """
    x = as_batched_inputs(x, params)
    y = check_targets(y, x, params)
    return aion(params, x) - y, aion_jacobian(params, x)
