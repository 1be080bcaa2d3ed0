"""A real measured signal and a data-driven starting point for fitting it.

The signal is the yearly mean sunspot number 1700–2008 that statsmodels ships inside its
distribution (``statsmodels.datasets.sunspots``, 309 values), so nothing is downloaded at run
time. Solar activity is quasi-periodic with the Schwabe cycle of about 11 years, whose amplitude
and length drift from cycle to cycle: a handful of slowly growing or decaying cosines (an AION
with one input, rank one and a few terms) captures the dominant cycle and its modulation, but
not the sharp asymmetric peaks, so the fit is a test of the solvers on a misspecified model.
"""

from __future__ import annotations

import math

import torch

from .aion import AIONParams


def sunspot_series(dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(years, sunspot_number)``, each of shape ``(309,)``, years 1700 … 2008.

    Raises ``ImportError`` with the install command when statsmodels is missing.
    """
    try:
        from statsmodels.datasets import sunspots
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the sunspot series comes from statsmodels; install it with `pip install statsmodels` "
            "(it is part of the notebooks extra: `pip install -e .[notebooks]`)"
        ) from error
    frame = sunspots.load_pandas().data
    years = torch.tensor(frame["YEAR"].to_numpy(copy=True), dtype=dtype, device=device)
    counts = torch.tensor(frame["SUNACTIVITY"].to_numpy(copy=True), dtype=dtype, device=device)
    return years, counts


def periodogram_start(x: torch.Tensor, y: torch.Tensor, terms: int, oversampling: int = 8) -> AIONParams:
    """Build a one-input AION start from the ``terms`` largest peaks of the periodogram of ``y``.

    Each term gets α = 0, the frequency ω of a local maximum of ``|Σ_n y_n e^{-iωx_n}|`` on a
    grid ``oversampling`` times finer than the FFT grid, and the amplitude and phase of that
    Fourier coefficient. This is the usual data-driven start for sums of sinusoids; it uses the
    data only, never the truth.

    Parameters
    ----------
    x : uniform grid, shape ``(N,)``.
    y : data, shape ``(N,)``; remove the mean first, since a constant is not an AION term with ω > 0.
    terms : number of terms P (rank 1, one input).
    oversampling : zero-padding factor of the FFT.
    """
    if x.ndim != 1 or y.shape != x.shape:
        raise ValueError(f"x and y must be 1-D of the same length, got shapes {tuple(x.shape)} and {tuple(y.shape)}")
    if terms < 1 or oversampling < 1:
        raise ValueError(f"terms and oversampling must be positive, got {terms} and {oversampling}")
    points = x.shape[0]
    if points < 4 * terms + 1:
        raise ValueError(f"{points} points cannot determine {terms} terms; pass at least {4 * terms + 1} points")
    h = float(x[1] - x[0])
    length = oversampling * points
    spectrum = torch.fft.rfft(y, n=length)
    magnitude = spectrum.abs()
    # Local maxima, excluding the zero frequency and the Nyquist bin.
    interior = (magnitude[1:-1] > magnitude[:-2]) & (magnitude[1:-1] >= magnitude[2:])
    candidates = torch.nonzero(interior).squeeze(1) + 1
    if candidates.numel() < terms:
        raise ValueError(f"the periodogram has {candidates.numel()} peaks, fewer than the {terms} terms requested")
    strongest = candidates[torch.argsort(magnitude[candidates], descending=True)[:terms]]
    omega = 2 * math.pi * strongest.to(y.dtype) / (length * h)
    # Fourier coefficient of y at ω relative to x_0, scaled to the amplitude of a cosine.
    coefficient = spectrum[strongest] * torch.exp(-1j * omega * float(x[0])) * 2 / points
    amplitude = coefficient.abs()
    phase = torch.angle(coefficient)
    shape = (1, 1, terms)
    return AIONParams.from_values(
        amplitude.reshape(shape), torch.zeros(shape, dtype=y.dtype), omega.reshape(shape), phase.reshape(shape),
        dtype=y.dtype, device=y.device,
    )
