"""AION evaluation against an independent scalar formula, and the parameter container."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from idlib.aion import AIONParams, aion, mse_loss, wrap_phase


def random_params(generator, batch, rank, dim, terms, scale=1.0):
    return AIONParams(*(scale * torch.randn(batch, rank, dim, terms, generator=generator, dtype=torch.float64) for _ in range(4)))


def aion_by_loops(params: AIONParams, x: np.ndarray) -> np.ndarray:
    """The defining formula evaluated with Python floats, one term at a time."""
    A, alpha, omega, phi = (t.numpy() for t in params.tensors())
    batch, rank, dim, terms = A.shape
    out = np.zeros((batch, x.shape[-2]))
    for b in range(batch):
        points = x[b] if x.ndim == 3 else x
        for n, point in enumerate(points):
            total = 0.0
            for j in range(rank):
                product = 1.0
                for i in range(dim):
                    psi = sum(
                        A[b, j, i, p] * math.exp(alpha[b, j, i, p] * point[i]) * math.cos(omega[b, j, i, p] * point[i] + phi[b, j, i, p])
                        for p in range(terms)
                    )
                    product *= psi
                total += product
            out[b, n] = total
    return out


@pytest.mark.parametrize("rank,dim,terms", [(1, 1, 1), (2, 1, 3), (3, 2, 2), (2, 3, 1)])
def test_aion_matches_scalar_formula(rank, dim, terms):
    generator = torch.Generator().manual_seed(rank * 100 + dim * 10 + terms)
    params = random_params(generator, 3, rank, dim, terms)
    x = 2 * torch.rand(3, 17, dim, generator=generator, dtype=torch.float64) - 1
    expected = aion_by_loops(params, x.numpy())
    np.testing.assert_allclose(aion(params, x).numpy(), expected, rtol=1e-12, atol=1e-13)


def test_aion_shared_inputs_broadcast_over_batch():
    generator = torch.Generator().manual_seed(1)
    params = random_params(generator, 4, 2, 2, 2)
    x = torch.rand(9, 2, generator=generator, dtype=torch.float64)
    batched = aion(params, x.expand(4, -1, -1))
    assert torch.equal(aion(params, x), batched)


def test_aion_one_dimensional_inputs_accepted():
    params = AIONParams.from_values(1.5, -0.2, 3.0, 0.4)
    x = torch.linspace(0, 2, 11, dtype=torch.float64)
    expected = 1.5 * torch.exp(-0.2 * x) * torch.cos(3.0 * x + 0.4)
    torch.testing.assert_close(aion(params, x)[0], expected, rtol=1e-15, atol=1e-15)


def test_mse_loss_is_mean_of_squared_residuals():
    params = AIONParams.from_values(1.0, 0.1, 2.0, 0.0)
    x = torch.linspace(0, 1, 5, dtype=torch.float64)
    y = torch.arange(5, dtype=torch.float64)
    residual = aion(params, x)[0] - y
    assert float(mse_loss(params, x, y)[0]) == pytest.approx(float((residual**2).sum() / 5), rel=1e-15)


def test_vector_round_trip():
    generator = torch.Generator().manual_seed(2)
    params = random_params(generator, 2, 2, 3, 2)
    again = AIONParams.from_vector(params.to_vector(), 2, 3, 2)
    for left, right in zip(params.tensors(), again.tensors()):
        assert torch.equal(left, right)


def test_names_of_single_atom_follow_paper():
    assert AIONParams.from_values(1, 0, 1, 0).names() == ["A1", "alpha1", "omega1", "phi1"]


def test_names_of_larger_model_are_indexed():
    params = AIONParams(*(torch.zeros(1, 2, 1, 3, dtype=torch.float64) for _ in range(4)))
    names = params.names()
    assert len(names) == params.n_params == 24
    assert names[0] == "A[1,1,1]"
    assert names[-1] == "phi[2,1,3]"


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_canonical_form_gives_same_model(seed):
    generator = torch.Generator().manual_seed(seed)
    params = random_params(generator, 2, 2, 2, 2, scale=3.0)
    x = torch.rand(2, 13, 2, generator=generator, dtype=torch.float64)
    canonical = params.canonical()
    assert bool((canonical.A >= 0).all())
    assert bool((canonical.omega >= 0).all())
    assert bool((canonical.phi > -math.pi).all())
    assert bool((canonical.phi <= math.pi).all())
    torch.testing.assert_close(aion(canonical, x), aion(params, x), rtol=1e-11, atol=1e-11)


def test_wrap_phase_maps_minus_pi_to_pi():
    wrapped = wrap_phase(torch.tensor([-math.pi, math.pi, 3 * math.pi, 0.5], dtype=torch.float64))
    torch.testing.assert_close(wrapped, torch.tensor([math.pi, math.pi, math.pi, 0.5], dtype=torch.float64))


def test_params_reject_wrong_rank():
    with pytest.raises(ValueError, match="shape \\(B, r, d, P\\)"):
        AIONParams(*(torch.zeros(2, 3, dtype=torch.float64) for _ in range(4)))


def test_params_reject_mixed_dtypes():
    tensors = [torch.zeros(1, 1, 1, 1, dtype=torch.float64) for _ in range(3)] + [torch.zeros(1, 1, 1, 1, dtype=torch.float32)]
    with pytest.raises(TypeError, match="one dtype"):
        AIONParams(*tensors)


def test_params_reject_integer_tensors():
    with pytest.raises(TypeError, match="real floating"):
        AIONParams(*(torch.zeros(1, 1, 1, 1, dtype=torch.int64) for _ in range(4)))


def test_check_finite_names_argument():
    params = AIONParams.from_values(float("nan"), 0.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="start.A contains NaN"):
        params.check_finite("start")


def test_aion_rejects_mismatched_input_dimension():
    params = AIONParams(*(torch.zeros(1, 1, 2, 1, dtype=torch.float64) for _ in range(4)))
    with pytest.raises(ValueError, match="shape \\(N, 2\\)"):
        aion(params, torch.zeros(5, 3, dtype=torch.float64))


def test_aion_rejects_dtype_mismatch():
    params = AIONParams.from_values(1.0, 0.0, 1.0, 0.0)
    with pytest.raises(TypeError, match="dtype torch.float32"):
        aion(params, torch.zeros(5, dtype=torch.float32))


def test_aion_runs_on_every_device(device):
    params = AIONParams.from_values(1.0, -0.5, 2.0, 0.3, device=device)
    x = torch.linspace(0, 1, 7, dtype=torch.float64, device=device)
    assert aion(params, x).device.type == device.type
