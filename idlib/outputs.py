"""Paths of the repository and atomic writing of figures and tables.

Every output is written to a temporary file in its destination folder and renamed into place,
so a run that fails midway leaves the previous file untouched and never a half-written one.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
OUTPUT_DIR_VARIABLE = "IDLIB_OUTPUT_DIR"


def resolve_output_dir(output_dir: str | os.PathLike | None = None) -> Path:
    """Return the folder that receives ``figures/`` and ``paper/tables/``.

    Order: the ``output_dir`` argument, then the ``IDLIB_OUTPUT_DIR`` environment variable,
    then the repository root. Relative paths are taken from the repository root, so the result
    does not depend on the working folder.
    """
    chosen = output_dir if output_dir not in (None, "") else os.environ.get(OUTPUT_DIR_VARIABLE) or REPOSITORY_ROOT
    path = Path(chosen).expanduser()
    if not path.is_absolute():
        path = REPOSITORY_ROOT / path
    return path


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates the file readable by its owner only; give it the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def save_figure(figure, stem: str | os.PathLike, formats: tuple[str, ...] = ("png", "pdf"), dpi: int = 150) -> list[Path]:
    """Save a matplotlib figure as ``stem.png`` and ``stem.pdf`` atomically, without timestamps.

    Both files are rendered in memory first, so neither is replaced unless both render.
    """
    rendered = {}
    for extension in formats:
        buffer = io.BytesIO()
        metadata = {"CreationDate": None, "ModDate": None} if extension == "pdf" else {"Software": None}
        figure.savefig(buffer, format=extension, dpi=dpi, metadata=metadata, bbox_inches="tight")
        rendered[extension] = buffer.getvalue()
    return [write_bytes_atomic(Path(f"{stem}.{extension}"), data) for extension, data in rendered.items()]


def format_value(value) -> str:
    """Format a table entry: integers as is, floats with 6 significant digits, text unchanged."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def write_table(rows: list[dict], stem: str | os.PathLike) -> list[Path]:
    """Write rows (dicts sharing their keys) to ``stem.csv`` and ``stem.md`` atomically."""
    if not rows:
        raise ValueError(f"no rows to write to {stem}; the experiment produced nothing")
    columns = list(rows[0])
    for row in rows:
        if list(row) != columns:
            raise ValueError(f"every row must have the columns {columns}, got {list(row)}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([format_value(row[column]) for column in columns])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(format_value(row[column]) for column in columns) + " |")
    csv_path = write_text_atomic(Path(f"{stem}.csv"), buffer.getvalue())
    md_path = write_text_atomic(Path(f"{stem}.md"), "\n".join(lines) + "\n")
    return [csv_path, md_path]


def read_table(path: str | os.PathLike) -> list[dict[str, str]]:
    """Read a CSV table written by ``write_table`` as a list of string dicts."""
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))
