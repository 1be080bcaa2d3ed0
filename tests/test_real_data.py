"""The shipped sunspot series and the periodogram start."""

import math

import pytest
import torch

from idlib.aion import AIONParams, aion
from idlib.real_data import periodogram_start, sunspot_series


def test_sunspot_series_matches_published_values():
    years, counts = sunspot_series()
    assert years.shape == counts.shape == (309,)
    assert float(years[0]) == 1700.0 and float(years[-1]) == 2008.0
    # Yearly mean sunspot numbers as published (SIDC version 1): 1700 -> 5, 1701 -> 11, 1702 -> 16.
    assert counts[:3].tolist() == [5.0, 11.0, 16.0]
    assert bool((years.diff() == 1.0).all())


def test_periodogram_start_finds_the_frequencies():
    x = torch.linspace(0, 50, 301, dtype=torch.float64)
    truth = AIONParams.from_values([[[2.0, 1.0]]], [[[0.0, 0.0]]], [[[0.7, 1.9]]], [[[0.4, -1.0]]])
    y = aion(truth, x)[0]
    start = periodogram_start(x, y, 2)
    found = sorted(start.omega.flatten().tolist())
    resolution = 2 * math.pi / (8 * 301 * float(x[1] - x[0]))
    assert abs(found[0] - 0.7) <= resolution
    assert abs(found[1] - 1.9) <= resolution
    strongest = int(start.omega.flatten().argmin())
    assert float(start.A.flatten()[strongest]) == pytest.approx(2.0, rel=0.05)


def test_periodogram_start_rejects_too_many_terms():
    x = torch.linspace(0, 1, 8, dtype=torch.float64)
    with pytest.raises(ValueError, match="cannot determine 2 terms"):
        periodogram_start(x, torch.sin(x), 2)
