"""Test-session settings shared by the package tests and the notebook validation (nbval).

Notebooks executed by the tests write their figures and tables into a temporary folder, never
into the repository, and use the inline matplotlib backend whatever the environment sets.
"""

import os
import tempfile


def pytest_configure(config):
    os.environ["IDLIB_OUTPUT_DIR"] = tempfile.mkdtemp(prefix="idlib-test-outputs-")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
