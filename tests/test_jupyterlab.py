"""JupyterLab, started with the project's configuration, serves every notebook script as a notebook.

Each test starts a real JupyterLab server on 127.0.0.1, with a free port, a random token and
Jupyter's config, data and runtime folders in a temporary directory. It reads the notebooks
through the server's REST contents API, as the JupyterLab front end does when a reader opens
``notebooks/NN_topic.py`` with Open With → Notebook. The server is shut down after the test, also
when the test fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import jupytext
import nbformat
import pytest

from idlib.outputs import REPOSITORY_ROOT

SERVER_CONFIG = REPOSITORY_ROOT / ".jupyter" / "jupyter_server_config.py"
SOURCES = sorted((REPOSITORY_ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
STARTUP_TIMEOUT_S = 90.0
REQUEST_TIMEOUT_S = 15.0
SHUTDOWN_TIMEOUT_S = 15.0
# No proxy for loopback requests, whatever http_proxy the environment sets.
LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class LabServer:
    """A JupyterLab process on 127.0.0.1 with an isolated Jupyter home, and a client for its API."""

    def __init__(self, workdir: Path, *, project_config: bool = True, jupytext_extension: bool = True):
        self.workdir = workdir
        self.token = secrets.token_hex(16)
        self.port = free_loopback_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "jupyterlab.log"
        command = [
            sys.executable, "-m", "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            # The default "pypi" extension manager can query PyPI, and these tests use loopback only.
            "--LabApp.extension_manager=readonly",
        ]
        if project_config:
            command.append(f"--config={SERVER_CONFIG}")
        else:
            command.append(f"--ServerApp.root_dir={REPOSITORY_ROOT}")
        if not jupytext_extension:
            command.append("--ServerApp.jpserver_extensions=jupyterlab_jupytext=False")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--ServerApp.allow_root=True")  # CI containers often run as root
        self.command = command

    def environment(self) -> dict[str, str]:
        """Return the server's environment: the caller's, with every Jupyter folder moved to workdir."""
        environment = {key: value for key, value in os.environ.items() if not key.startswith(("JUPYTER", "JPY_"))}
        for variable, folder in (
            ("JUPYTER_CONFIG_DIR", "config"),
            ("JUPYTER_DATA_DIR", "data"),
            ("JUPYTER_RUNTIME_DIR", "runtime"),
            ("JUPYTERLAB_SETTINGS_DIR", "lab-settings"),
            ("JUPYTERLAB_WORKSPACES_DIR", "lab-workspaces"),
        ):
            environment[variable] = str(self.workdir / folder)
        # A config file that fails to load stops the server instead of being skipped with a warning.
        environment["TRAITLETS_APPLICATION_RAISE_CONFIG_FILE_ERROR"] = "1"
        return environment

    def start(self) -> None:
        """Start the server in its own process group and wait until its API responds."""
        with open(self.log_path, "wb") as log:
            # The working folder is not the repository, so the root comes from the configuration.
            self.process = subprocess.Popen(
                self.command, cwd=self.workdir, env=self.environment(), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"JupyterLab exited with status {self.process.returncode} during startup\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                if self.request("GET", "/api/status")[0] == 200:
                    return
            time.sleep(0.1)
        raise AssertionError(f"JupyterLab did not respond on {self.url} within {STARTUP_TIMEOUT_S:.0f} s\n{self.log_tail()}")

    def request(self, method: str, path: str) -> tuple[int, bytes]:
        """Send an authenticated request; return the HTTP status and the body, also for error statuses."""
        request = urllib.request.Request(self.url + path, method=method, headers={"Authorization": f"token {self.token}"})
        try:
            with LOOPBACK.open(request, timeout=REQUEST_TIMEOUT_S) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def notebook_model(self, path: str) -> tuple[int, dict]:
        """Request ``path`` (relative to the repository) as a notebook, as JupyterLab's Notebook viewer does."""
        status, body = self.request("GET", f"/api/contents/{path}?type=notebook&content=1")
        return status, json.loads(body)

    def stop(self) -> None:
        """Shut the server down through its API; terminate, then kill its process group if it hangs."""
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                self.request("POST", "/api/shutdown")
            try:
                self.process.wait(timeout=SHUTDOWN_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGTERM)
                try:
                    self.process.wait(timeout=SHUTDOWN_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self._signal_group(signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)
                    self.process.wait(timeout=SHUTDOWN_TIMEOUT_S)

    def _signal_group(self, signal_number: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            if hasattr(os, "killpg"):
                os.killpg(self.process.pid, signal_number)  # the group that start_new_session created
            else:
                self.process.send_signal(signal_number)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""
        return "server log (last lines):\n" + "\n".join(text.splitlines()[-lines:])


def free_loopback_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 now (the server binds it moments later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_lab(workdir: Path, **options):
    server = LabServer(workdir, **options)
    try:
        server.start()
        yield server
    finally:
        if hasattr(server, "process"):
            server.stop()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab as a reader starts it: the project's configuration and jupytext as installed."""
    with running_lab(tmp_path_factory.mktemp("jupyterlab")) as server:
        yield server


def cell_summary(notebook) -> list[tuple[str, str, list[str]]]:
    return [(cell.cell_type, cell.source.strip(), list(cell.metadata.get("tags", []))) for cell in notebook.cells]


def page_config(html: str) -> dict:
    """Return the configuration JupyterLab embeds in its page for the front end."""
    match = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.DOTALL)
    assert match, "the /lab page has no jupyter-config-data block"
    return json.loads(match.group(1))


def test_notebooks_found():
    assert SOURCES, "no notebooks/NN_*.py found"


def test_lab_serves_repository_from_notebooks(lab):
    status, body = lab.request("GET", "/lab")
    assert status == 200, lab.log_tail()
    config = page_config(body.decode("utf-8"))
    assert Path(config["serverRoot"]) == REPOSITORY_ROOT
    assert config["preferredPath"].strip("/") == "notebooks"


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.stem)
def test_script_opens_as_notebook(lab, source):
    status, model = lab.notebook_model(f"notebooks/{source.name}")
    assert status == 200, f"{source.name} was not served as a notebook: {model.get('message')}\n{lab.log_tail()}"
    assert model["type"] == "notebook"
    assert model["format"] == "json"
    served = nbformat.from_dict(model["content"])
    assert cell_summary(served) == cell_summary(jupytext.read(source)), (
        f"the cells JupyterLab shows for {source.name} differ from the script"
    )


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: path.stem)
def test_script_shows_stored_outputs(lab, source):
    paired = source.with_suffix(".ipynb")
    if not paired.exists():
        pytest.skip(f"{paired.name} is missing (test_notebooks reports it)")
    _, model = lab.notebook_model(f"notebooks/{source.name}")
    served = nbformat.from_dict(model["content"])
    stored = nbformat.read(paired, as_version=4)
    served_outputs = [cell.get("outputs", []) for cell in served.cells if cell.cell_type == "code"]
    stored_outputs = [cell.get("outputs", []) for cell in stored.cells if cell.cell_type == "code"]
    assert any(served_outputs), f"JupyterLab shows {source.name} without the outputs of {paired.name}"
    assert served_outputs == stored_outputs


def first_notebook() -> str:
    assert SOURCES, "no notebooks/NN_*.py found"
    return f"notebooks/{SOURCES[0].name}"


def test_project_config_works_without_extension(tmp_path):
    # jupytext's server extension would install the same contents manager. With the extension
    # disabled, the project's configuration alone must make the scripts readable as notebooks.
    with running_lab(tmp_path, jupytext_extension=False) as server:
        status, model = server.notebook_model(first_notebook())
    assert status == 200, model.get("message")
    assert model["type"] == "notebook"


def test_plain_server_rejects_script(tmp_path):
    # Without jupytext's contents manager a script is not a notebook, which is the failure the
    # project's configuration prevents.
    with running_lab(tmp_path, project_config=False, jupytext_extension=False) as server:
        status, model = server.notebook_model(first_notebook())
    assert status == 400
    assert "Unreadable Notebook" in model["message"]
