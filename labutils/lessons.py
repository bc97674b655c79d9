"""Instructor tools for the lesson notebooks: read, write and strip them, start a new lesson
from the template, render executed lessons to HTML.

The command line wraps them (labutils.cli_lessons); see CONTRIBUTING.md, "Editing the
lessons". Notebooks are read, validated and written by nbformat, in its own layout, and
stripped by nbstripout, the tool the pre-commit hook runs.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import nbformat

from labutils import REPO_URL

__all__ = [
    "NBSTRIPOUT_ARGS",
    "TEMPLATE",
    "colab_url",
    "new_lesson",
    "read_notebook",
    "render_html",
    "strip_notebook",
    "write_notebook",
]

#: nbstripout's options for the lessons (also the pre-commit hook's): keep the cell ids, which
#: it would otherwise renumber. Its defaults already keep tags and nbmake mocks.
NBSTRIPOUT_ARGS = ("--keep-id",)
#: The template notebook that ``new_lesson`` copies: the lesson anatomy, ready to fill in.
TEMPLATE = Path(__file__).resolve().parent / "templates" / "lesson.ipynb"

_TOPIC = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")
_LESSON = re.compile(r"^(\d\d)_[a-z0-9_]+\.ipynb$")


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read and validate a lesson notebook with nbformat, each source as a list of lines.

    Not used in a lesson: every instructor tool reads with it (CONTRIBUTING.md, "Editing the
    lessons").

    Args:
        path: an ``.ipynb`` file in nbformat 4.

    Returns:
        The notebook: ``{"cells": [...], "metadata": {...}, "nbformat": 4, ...}``, its
        cells' sources split into lines as Jupyter stores them.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is not a valid version-4 notebook.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"No notebook at {path}: check the path (e.g. notebooks/01_masks.ipynb)."
        )
    try:
        nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    except nbformat.reader.NotJSONError as err:
        raise ValueError(f"{path} is not a notebook (invalid JSON: {err}).") from err
    except (AttributeError, KeyError, nbformat.reader.NBFormatError):
        nb = {}  # JSON, but not shaped like any notebook
    if nb.get("nbformat") != 4:
        raise ValueError(
            f"{path} is not an nbformat-4 notebook; open and save it in Jupyter first."
        )
    _validate(nb, path)
    for cell in nb.cells:
        cell.source = _lines(cell.source)
    return nb


def write_notebook(nb: dict, path: Path) -> None:
    """Validate a notebook and write it with ``nbformat.write`` (sorted keys, indent 1, UTF-8).

    Not used in a lesson: the instructor tools write with it (CONTRIBUTING.md, "Add a lesson").

    Args:
        nb: a notebook, e.g. from ``read_notebook``; sources may be strings or line lists.
        path: the ``.ipynb`` file to write; its folder must exist.

    Raises:
        ValueError: ``nb`` is not a valid nbformat-4 notebook (the message says why).
    """
    nb = nbformat.from_dict(nb)
    _validate(nb, path)
    nbformat.write(nb, path)


def strip_notebook(path: Path) -> bool:
    """Strip a notebook file with nbstripout, exactly as the pre-commit hook does.

    nbstripout removes outputs, execution counts, cell timings and widget state; with
    ``NBSTRIPOUT_ARGS`` it keeps the cell ids, tags, nbmake mocks and all other metadata.
    Not used in a lesson: an instructor tool (CONTRIBUTING.md, "Check your edits before
    committing").

    Args:
        path: an ``.ipynb`` file.

    Returns:
        ``True`` if the file was changed.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        RuntimeError: nbstripout failed (its message is included).
    """
    path = Path(path)
    before = path.read_bytes()
    command = [sys.executable, "-m", "nbstripout", *NBSTRIPOUT_ARGS, str(path)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"nbstripout could not strip {path}: {done.stderr.strip()}")
    return path.read_bytes() != before


def _lines(source: str | list[str]) -> list[str]:
    """A cell source as the list of lines Jupyter stores (each but the last ends in "\\n")."""
    return source.splitlines(keepends=True) if isinstance(source, str) else source


def _validate(nb: nbformat.NotebookNode, path: Path) -> None:
    """Raise ValueError, naming ``path``, if nbformat's schema rejects ``nb``."""
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as err:
        raise ValueError(f"{path} is not a valid nbformat-4 notebook: {err.message}") from None


def colab_url(notebook_name: str) -> str:
    """Return the Open-in-Colab address of a lesson, built from ``labutils.REPO_URL``.

    Not used in a lesson: it writes each lesson's badge (CONTRIBUTING.md, "Add a lesson").

    Args:
        notebook_name: the file name in ``notebooks/``, e.g. ``"03_pets_dataset.ipynb"``.

    >>> colab_url("03_pets_dataset.ipynb").removeprefix(REPO_URL.replace("github.com",
    ...     "colab.research.google.com/github"))
    '/blob/main/notebooks/03_pets_dataset.ipynb'
    """
    colab = REPO_URL.replace("https://github.com", "https://colab.research.google.com/github")
    return f"{colab}/blob/main/notebooks/{notebook_name}"


def new_lesson(topic: str, notebooks_dir: Path, title: str | None = None) -> Path:
    """Copy the template to the next free lesson number, with title and Colab badge filled in.

    Not used in a lesson: an instructor tool (CONTRIBUTING.md, "Add a lesson").

    Args:
        topic: the file-name topic, lower case with underscores, e.g. ``"instance_masks"``.
        notebooks_dir: the lessons folder, e.g. ``Path("notebooks")``.
        title: the title after ``# NN ·``; defaults to the topic in words ("Instance masks").

    Returns:
        The new notebook's path, e.g. ``notebooks/06_instance_masks.ipynb``.

    Raises:
        ValueError: ``topic`` is not lower-case words joined by underscores.
        FileNotFoundError: ``notebooks_dir`` is not a folder.
    """
    if not _TOPIC.match(topic):
        raise ValueError(
            f"topic {topic!r} must be lower-case letters and digits joined by underscores, "
            "e.g. 'instance_masks'."
        )
    notebooks_dir = Path(notebooks_dir)
    if not notebooks_dir.is_dir():
        raise FileNotFoundError(
            f"No folder {notebooks_dir}: pass the lessons folder, e.g. notebooks/."
        )
    numbers = [int(m[1]) for p in notebooks_dir.glob("*.ipynb") if (m := _LESSON.match(p.name))]
    path = notebooks_dir / f"{max(numbers, default=0) + 1:02d}_{topic}.ipynb"
    fields = {
        "{{NN}}": path.name[:2],
        "{{TITLE}}": title or topic.replace("_", " ").capitalize(),
        "{{COLAB_URL}}": colab_url(path.name),
    }
    nb = read_notebook(TEMPLATE)
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        for placeholder, value in fields.items():
            text = text.replace(placeholder, value)
        cell["source"] = text
    write_notebook(nb, path)
    return path


def render_html(
    notebooks: list[Path], out: Path, ci_values: bool = False, timeout: int = 1800
) -> list[Path]:
    """Execute notebooks and write each, with its outputs, as ``out/NN_topic.html``.

    Each notebook runs in its own folder, like in Jupyter. An ``index.html`` links the pages.
    A notebook that fails is still written (its error shows in the page), then reported.
    Not used in a lesson: an instructor tool (CONTRIBUTING.md, "Read the executed lessons").

    Args:
        notebooks: ``.ipynb`` files, e.g. ``sorted(Path("notebooks").glob("*.ipynb"))``.
        out: the folder for the pages, e.g. ``Path("_build/html")`` (git-ignored).
        ci_values: apply the nbmake mocks (CI's shortened training) instead of teaching values.
        timeout: seconds one cell may run.

    Returns:
        The written pages, in the order of ``notebooks``.

    Raises:
        ValueError: ``notebooks`` is empty or two of them share a file name.
        FileNotFoundError: a notebook does not exist.
        RuntimeError: a notebook raised an error (after all pages are written).
    """
    if not notebooks:
        raise ValueError("No notebooks to render: pass .ipynb files, e.g. notebooks/*.ipynb.")
    names = [Path(notebook).name for notebook in notebooks]
    if len(set(names)) < len(names):
        raise ValueError(
            f"Two notebooks share a file name in {names}: render each to its own out folder."
        )
    for notebook in notebooks:
        read_notebook(notebook)  # fail early on a wrong path, before minutes of execution
    from nbconvert import HTMLExporter

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pages, failures = [], []
    for notebook in map(Path, notebooks):
        nb, error = _execute_notebook(notebook, ci_values, timeout)
        page = out / f"{notebook.stem}.html"
        page.write_text(HTMLExporter(template_name="lab").from_notebook_node(nb)[0], "utf-8")
        pages.append(page)
        if error:
            failures.append(f"{notebook.name}: {error}")
    links = "".join(f'<li><a href="{p.name}">{html.escape(p.stem)}</a></li>' for p in pages)
    (out / "index.html").write_text(f"<h1>Executed lessons</h1><ul>{links}</ul>\n", "utf-8")
    if failures:
        raise RuntimeError(
            "These notebooks raised errors (see their pages):\n" + "\n".join(failures)
        )
    return pages


def _execute_notebook(notebook: Path, ci_values: bool, timeout: int) -> tuple[object, str | None]:
    """Run a notebook in its folder; return the executed NotebookNode and its error, if any."""
    if ci_values:  # nbmake's own runner, so the mocks behave exactly as in CI
        from nbmake.nb_run import NotebookRun

        result = NotebookRun(notebook, default_timeout=timeout).execute()
        return result.nb, result.error.summary if result.error else None
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(notebook, as_version=4)
    try:
        NotebookClient(nb, timeout=timeout).execute(cwd=str(notebook.parent))
    except CellExecutionError as err:
        return nb, f"{err.ename}: {err.evalue}"
    return nb, None
