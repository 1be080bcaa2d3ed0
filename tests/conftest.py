"""Fixtures shared by the package tests."""

import pytest
import torch

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request):
    """Every device available here: the CPU always, CUDA where present."""
    return torch.device(request.param)
