"""Jupyter server settings for reading this repository's notebooks in JupyterLab.

Start JupyterLab from the repository root with

    .venv/bin/jupyter lab --config=.jupyter/jupyter_server_config.py

With ``--config`` Jupyter reads this file in place of a ``jupyter_server_config.py`` or ``.json``
in the user's ``~/.jupyter``. Extensions enabled in ``jupyter_server_config.d`` folders still load.

The notebooks are stored as jupytext percent scripts (``notebooks/NN_topic.py``) paired with
``.ipynb`` files. Jupyter's default contents manager reads only ``.ipynb`` files as notebooks, so
this file installs jupytext's contents manager. That manager returns a ``.py`` script as a
notebook with the outputs of its paired ``.ipynb``, and on save it writes both files, in the
formats that the script's header and ``[tool.jupytext]`` in ``pyproject.toml`` name.

jupytext also ships a server extension (``jupyterlab_jupytext``) that swaps in the same contents
manager. Installing jupytext enables it through a file in the environment's
``etc/jupyter/jupyter_server_config.d/``. This configuration does not rely on that extension,
which may be disabled or installed where Jupyter does not look. When the extension runs, it finds
jupytext's class already set and leaves it unchanged.
"""

from pathlib import Path

try:
    import jupytext
except ImportError as error:
    raise ImportError(
        "jupytext is not installed in the environment that runs Jupyter, so the notebooks/*.py "
        "scripts cannot be opened as notebooks; install the notebook extra with "
        "`pip install -e '.[notebooks]'` (or run `make env`) and start JupyterLab from .venv"
    ) from error

c = get_config()  # noqa: F821 (traitlets defines get_config when it runs this file)

# jupytext 1.17 added a contents manager built on jupyter_server's asynchronous file manager.
# Older releases (the project accepts jupytext >= 1.15) only have the synchronous one.
if hasattr(jupytext, "AsyncTextFileContentsManager"):
    c.ServerApp.contents_manager_class = "jupytext.AsyncTextFileContentsManager"
else:
    c.ServerApp.contents_manager_class = "jupytext.TextFileContentsManager"

# Serve the repository whatever folder the server is started from, and open the file browser
# in notebooks/ (an API path, relative to the root).
c.ServerApp.root_dir = str(Path(__file__).resolve().parents[1])
c.ContentsManager.preferred_dir = "notebooks"
