"""Render executed lessons to HTML pages (``python -m labutils render``), with an index.

Each lesson runs as in Jupyter, in its own folder, with ``SEGLAB_STRICT_CHECKS=1`` as in a test
run, so a solution that fails its own checker fails the render (labutils.checks.verdict). The
pages of every render into a folder stay listed in its ``index.html``. Errors are reported as
plain text, without the terminal colour codes of IPython's tracebacks.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat

from labutils.checks.verdict import STRICT_ENV
from labutils.instructor.lessons import read_notebook

__all__ = ["plain_text", "render_html", "write_index"]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def plain_text(text: str) -> str:
    """Drop the terminal colour codes from ``text`` (IPython colours its tracebacks).

    Not used in a lesson: the error messages of ``render`` (CONTRIBUTING.md, "Read the
    executed lessons").

    >>> plain_text("\\x1b[0;31mValueError\\x1b[0m: boom")
    'ValueError: boom'
    """
    return _ANSI.sub("", text)


def render_html(
    notebooks: list[Path], out: Path, ci_values: bool = False, timeout: int = 1800
) -> list[Path]:
    """Execute notebooks and write each, with its outputs, as ``out/NN_topic.html``.

    Each notebook runs in its own folder, like in Jupyter, with checkers that raise on a wrong
    answer (``SEGLAB_STRICT_CHECKS=1`` unless set otherwise). ``out/index.html`` links every
    page in ``out``, those of earlier renders included. A notebook that fails is still
    written (its error shows in the page), then reported. Not used in a lesson: an instructor
    tool (CONTRIBUTING.md, "Read the executed lessons").

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
        RuntimeError: a notebook raised an error (after all pages are written); the message
            names each failing notebook and its error, in plain text.
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
        with _strict_checks():
            nb, error = _execute_notebook(notebook, ci_values, timeout)
        page = out / f"{notebook.stem}.html"
        page.write_text(HTMLExporter(template_name="lab").from_notebook_node(nb)[0], "utf-8")
        pages.append(page)
        if error:
            failures.append(f"{notebook.name}: {plain_text(error)}")
    write_index(out)
    if failures:
        raise RuntimeError(
            "These notebooks raised errors (see their pages):\n" + "\n".join(failures)
        )
    return pages


def write_index(out: Path) -> Path:
    """Write ``out/index.html``, a link to every other ``.html`` page in ``out``, by name.

    Not used in a lesson: ``render`` calls it after each run, so the index lists the pages of
    every render into ``out``, not only the last one's.

    Returns:
        The index page.
    """
    pages = sorted(p for p in Path(out).glob("*.html") if p.name != "index.html")
    links = "".join(f'<li><a href="{p.name}">{html.escape(p.stem)}</a></li>' for p in pages)
    index = Path(out) / "index.html"
    index.write_text(f"<h1>Executed lessons</h1><ul>{links}</ul>\n", "utf-8")
    return index


@contextmanager
def _strict_checks() -> Iterator[None]:
    """Set ``SEGLAB_STRICT_CHECKS=1`` for the kernels started meanwhile, unless it is set."""
    if STRICT_ENV in os.environ:
        yield
        return
    os.environ[STRICT_ENV] = "1"
    try:
        yield
    finally:
        del os.environ[STRICT_ENV]


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
