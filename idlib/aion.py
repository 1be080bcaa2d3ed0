"""The AION model: a sum of products of one-dimensional exponential-trigonometric atoms.

A rank-``r`` AION on inputs ``x = (x_1, ..., x_d)`` is

    f(x; θ) = Σ_{j=1}^{r} Π_{i=1}^{d} ψ_i^{(j)}(x_i),
    ψ_i^{(j)}(x_i) = Σ_{p=1}^{P} A_{ip}^{(j)} exp(α_{ip}^{(j)} x_i) cos(ω_{ip}^{(j)} x_i + φ_{ip}^{(j)}).

Real-part convention: every atom term is the real part of its complex form,
``Re[A exp(α x + i(ω x + φ))] = A exp(α x) cos(ω x + φ)``, taken term by term *before* the
sum over ``p`` and the product over ``i``. The whole package uses this convention.

Shapes: each parameter tensor is ``(B, r, d, P)`` with a leading batch dimension ``B``; inputs
are ``(B, N, d)`` or ``(N, d)`` (shared by the batch); outputs are ``(B, N)``. A single model
is a batch of one. Reference: R. T. Batley and S. Saha, "The Method of Infinite Descent",
arXiv:2510.05489 (2025).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

PARAMETER_NAMES = ("A", "alpha", "omega", "phi")


@dataclass(frozen=True)
class AIONParams:
    """Parameters of a batch of AION models, each tensor of shape ``(B, r, d, P)``.

    Attributes
    ----------
    A : amplitudes.
    alpha : growth (positive) or decay (negative) rates, in 1 / (unit of x).
    omega : angular frequencies, in radians / (unit of x).
    phi : phases, in radians.
    """

    A: torch.Tensor
    alpha: torch.Tensor
    omega: torch.Tensor
    phi: torch.Tensor

    def __post_init__(self) -> None:
        tensors = [getattr(self, name) for name in PARAMETER_NAMES]
        for name, tensor in zip(PARAMETER_NAMES, tensors):
            if not isinstance(tensor, torch.Tensor):
                raise TypeError(f"AIONParams.{name} must be a torch.Tensor, got {type(tensor).__name__}")
            if tensor.ndim != 4:
                raise ValueError(
                    f"AIONParams.{name} must have shape (B, r, d, P), got shape {tuple(tensor.shape)}; "
                    "use AIONParams.from_vector or add the missing dimensions with reshape"
                )
            if not tensor.is_floating_point():
                raise TypeError(f"AIONParams.{name} must be a real floating tensor, got dtype {tensor.dtype}")
        shapes = {tuple(t.shape) for t in tensors}
        if len(shapes) != 1:
            raise ValueError(f"AIONParams tensors must share one shape, got {sorted(shapes)}")
        dtypes = {t.dtype for t in tensors}
        if len(dtypes) != 1:
            raise TypeError(f"AIONParams tensors must share one dtype, got {sorted(map(str, dtypes))}")
        devices = {t.device for t in tensors}
        if len(devices) != 1:
            raise ValueError(f"AIONParams tensors must be on one device, got {sorted(map(str, devices))}")

    def check_finite(self, argument: str = "params") -> "AIONParams":
        """Raise ``ValueError`` naming ``argument`` when any entry is NaN or infinite."""
        for name, tensor in zip(PARAMETER_NAMES, self.tensors()):
            if not bool(torch.isfinite(tensor).all()):
                raise ValueError(f"{argument}.{name} contains NaN or infinite values; pass finite parameters")
        return self

    # Shape helpers -----------------------------------------------------------------------
    @property
    def batch_size(self) -> int:
        return self.A.shape[0]

    @property
    def rank(self) -> int:
        return self.A.shape[1]

    @property
    def dim(self) -> int:
        return self.A.shape[2]

    @property
    def terms(self) -> int:
        return self.A.shape[3]

    @property
    def dtype(self) -> torch.dtype:
        return self.A.dtype

    @property
    def device(self) -> torch.device:
        return self.A.device

    @property
    def n_params(self) -> int:
        """Number of parameters of one model: ``4 r d P``."""
        return 4 * self.rank * self.dim * self.terms

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.A, self.alpha, self.omega, self.phi

    # Conversions -------------------------------------------------------------------------
    def to_vector(self) -> torch.Tensor:
        """Flatten to ``(B, 4 r d P)`` in the order A, alpha, omega, phi, each row-major in (j, i, p)."""
        return torch.cat([t.reshape(self.batch_size, -1) for t in self.tensors()], dim=1)

    @classmethod
    def from_vector(cls, theta: torch.Tensor, rank: int, dim: int, terms: int) -> "AIONParams":
        """Build parameters from a ``(B, 4 r d P)`` or ``(4 r d P,)`` vector (inverse of ``to_vector``)."""
        if theta.ndim == 1:
            theta = theta.unsqueeze(0)
        size = rank * dim * terms
        if theta.ndim != 2 or theta.shape[1] != 4 * size:
            raise ValueError(
                f"theta must have shape (B, {4 * size}) for rank={rank}, dim={dim}, terms={terms}; "
                f"got shape {tuple(theta.shape)}"
            )
        parts = theta.split(size, dim=1)
        shaped = [part.reshape(theta.shape[0], rank, dim, terms) for part in parts]
        return cls(*shaped)

    @classmethod
    def from_values(
        cls,
        A,
        alpha,
        omega,
        phi,
        *,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str | None = None,
    ) -> "AIONParams":
        """Build a single model (batch of one) from scalars or nested lists of shape ``(r, d, P)``."""
        values = []
        for name, value in zip(PARAMETER_NAMES, (A, alpha, omega, phi)):
            tensor = torch.as_tensor(value, dtype=dtype, device=device)
            while tensor.ndim < 3:
                tensor = tensor.unsqueeze(-1)
            if tensor.ndim != 3:
                raise ValueError(f"{name} must be a scalar or have shape (r, d, P), got shape {tuple(tensor.shape)}")
            values.append(tensor.unsqueeze(0))
        return cls(*values)

    def to(self, device=None, dtype=None) -> "AIONParams":
        return AIONParams(*(t.to(device=device, dtype=dtype) for t in self.tensors()))

    def __getitem__(self, index) -> "AIONParams":
        """Select models of the batch; an integer index keeps the batch dimension."""
        if isinstance(index, int):
            index = slice(index, index + 1 if index != -1 else None)
        return AIONParams(*(t[index] for t in self.tensors()))

    def names(self) -> list[str]:
        """Names of the entries of ``to_vector``: ``A1, alpha1, omega1, phi1`` for one term,
        otherwise ``A[j,i,p]`` with 1-based indices (rank term j, input i, atom term p)."""
        if self.rank == self.dim == self.terms == 1:
            return [f"{name}1" for name in PARAMETER_NAMES]
        labels = []
        for name in PARAMETER_NAMES:
            for j in range(self.rank):
                for i in range(self.dim):
                    for p in range(self.terms):
                        labels.append(f"{name}[{j + 1},{i + 1},{p + 1}]")
        return labels

    def canonical(self) -> "AIONParams":
        """Map every term to the canonical representative ``A ≥ 0, ω ≥ 0, φ ∈ (-π, π]``.

        The same model is produced by ``(A, φ)`` and ``(-A, φ + π)``, by ``(ω, φ)`` and
        ``(-ω, -φ)``, and by ``φ`` and ``φ + 2πk``; parameter errors are measured between
        canonical forms. The order of terms is left unchanged.
        """
        A, alpha, omega, phi = self.tensors()
        negative_omega = omega < 0
        omega = torch.where(negative_omega, -omega, omega)
        phi = torch.where(negative_omega, -phi, phi)
        negative_A = A < 0
        A = torch.where(negative_A, -A, A)
        phi = torch.where(negative_A, phi + math.pi, phi)
        return AIONParams(A, alpha, omega, wrap_phase(phi))


def wrap_phase(phi: torch.Tensor) -> torch.Tensor:
    """Wrap angles into ``(-π, π]``."""
    wrapped = torch.remainder(phi + math.pi, 2 * math.pi) - math.pi
    return torch.where(wrapped == -math.pi, torch.full_like(wrapped, math.pi), wrapped)


def as_batched_inputs(x: torch.Tensor, params: AIONParams) -> torch.Tensor:
    """Check inputs against ``params`` and return them with shape ``(B or 1, N, d)``.

    Accepts ``(N,)`` when ``d == 1``, ``(N, d)`` shared by the batch, or ``(B, N, d)``.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}; convert with torch.as_tensor")
    if x.dtype != params.dtype:
        raise TypeError(f"x has dtype {x.dtype} but the parameters have {params.dtype}; convert one to match")
    if x.device != params.device:
        raise ValueError(f"x is on {x.device} but the parameters are on {params.device}; move one to match")
    if x.ndim == 1:
        if params.dim != 1:
            raise ValueError(f"x of shape {tuple(x.shape)} is one-dimensional but the model has d={params.dim}")
        x = x.unsqueeze(-1)
    if x.ndim == 2:
        x = x.unsqueeze(0)
    if x.ndim != 3 or x.shape[2] != params.dim:
        raise ValueError(f"x must have shape (N, {params.dim}) or (B, N, {params.dim}), got {tuple(x.shape)}")
    if x.shape[0] not in (1, params.batch_size):
        raise ValueError(f"x has batch size {x.shape[0]} but the parameters have {params.batch_size}")
    if x.shape[1] == 0:
        raise ValueError("x is empty; pass at least one data point")
    if not bool(torch.isfinite(x).all()):
        raise ValueError("x contains NaN or infinite values; pass finite inputs")
    return x


def complex_atoms(params: AIONParams, x: torch.Tensor) -> torch.Tensor:
    """Return ``E = exp(α x + i(ω x + φ))`` of shape ``(B, N, r, d, P)``, complex.

    ``x`` must already have shape ``(B or 1, N, d)``; see ``as_batched_inputs``.
    """
    xs = x[:, :, None, :, None]
    A, alpha, omega, phi = (t[:, None] for t in params.tensors())
    exponent = torch.complex(alpha * xs, omega * xs + phi)
    return torch.exp(exponent)


def aion(params: AIONParams, x: torch.Tensor) -> torch.Tensor:
    """Evaluate the AION models at ``x``.

    Parameters
    ----------
    params : AIONParams with tensors of shape ``(B, r, d, P)``.
    x : tensor of shape ``(N,)`` (only when d = 1), ``(N, d)`` or ``(B, N, d)``.

    Returns
    -------
    Tensor of shape ``(B, N)``, real, in the dtype of ``params``.
    """
    x = as_batched_inputs(x, params)
    xs = x[:, :, None, :, None]
    A, alpha, omega, phi = (t[:, None] for t in params.tensors())
    terms = A * torch.exp(alpha * xs) * torch.cos(omega * xs + phi)
    psi = terms.sum(dim=-1)  # (B, N, r, d)
    # A chain of products rather than prod(), whose derivative divides by the factors and loses
    # digits in higher-order autograd when a factor is near zero.
    product = psi[..., 0]
    for i in range(1, psi.shape[-1]):
        product = product * psi[..., i]
    return product.sum(dim=-1)


def mse_loss(params: AIONParams, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared error ``L(θ) = (1/N) Σ_n (f(x_n; θ) - y_n)²`` for each model, shape ``(B,)``."""
    residual = aion(params, x) - y
    return residual.pow(2).mean(dim=-1)
