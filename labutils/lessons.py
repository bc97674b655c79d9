"""Instructor tools for the lesson notebooks: read, write and strip them, start a new lesson
from the template, render executed lessons to HTML.

The command line wraps them (``python -m labutils strip | new-lesson | render``); see
CONTRIBUTING.md, "Editing the lessons". Notebooks are read and written as plain JSON in
nbformat's own layout, so a cell that a tool does not change stays byte-identical.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from labutils import REPO_URL

__all__ = [
    "TEMPLATE",
    "colab_url",
    "new_lesson",
    "read_notebook",
    "render_html",
    "set_repo",
    "strip_notebook",
    "write_notebook",
]

#: The template notebook that ``new_lesson`` copies: the lesson anatomy, ready to fill in.
TEMPLATE = Path(__file__).resolve().parent / "templates" / "lesson.ipynb"

_TOPIC = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")
_LESSON = re.compile(r"^(\d\d)_[a-z0-9_]+\.ipynb$")
_TRANSIENT_CELL_METADATA = ("execution", "ExecuteTime")  # timings written by nbclient, Jupyter
_GITHUB_REPO = re.compile(r"^https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_REPO_URL_LINE = re.compile(r'^REPO_URL = "([^"]*)"$', re.M)


def read_notebook(path: Path) -> dict:
    """Read a notebook file as the JSON dict that Jupyter writes.

    Args:
        path: an ``.ipynb`` file in nbformat 4.

    Returns:
        The notebook: ``{"cells": [...], "metadata": {...}, "nbformat": 4, ...}``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is not a version-4 notebook.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"No notebook at {path}: check the path (e.g. notebooks/01_masks.ipynb)."
        )
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not a notebook (invalid JSON: {err}).") from err
    if not isinstance(nb, dict) or nb.get("nbformat") != 4 or not isinstance(nb.get("cells"), list):
        raise ValueError(
            f"{path} is not an nbformat-4 notebook; open and save it in Jupyter first."
        )
    return nb


def write_notebook(nb: dict, path: Path) -> None:
    """Write a notebook exactly as ``nbformat.write`` does (sorted keys, indent 1, UTF-8).

    Args:
        nb: a notebook dict, e.g. from ``read_notebook``; sources may be strings or line lists.
        path: the ``.ipynb`` file to write; its folder must exist.
    """
    for cell in nb["cells"]:
        if isinstance(cell.get("source"), str):
            cell["source"] = cell["source"].splitlines(keepends=True)
    text = json.dumps(nb, indent=1, sort_keys=True, separators=(",", ": "), ensure_ascii=False)
    Path(path).write_text(text + "\n", encoding="utf-8")


def strip_notebook(path: Path) -> bool:
    """Remove outputs, execution counts, cell timings and widget state from a notebook file.

    Tags, nbmake mocks and all other metadata stay. The file is rewritten only if it changes.

    Args:
        path: an ``.ipynb`` file.

    Returns:
        ``True`` if the file was changed.
    """
    nb = read_notebook(path)
    before = json.dumps(nb, sort_keys=True)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        for key in _TRANSIENT_CELL_METADATA:
            cell.get("metadata", {}).pop(key, None)
    nb["metadata"].pop("widgets", None)
    if json.dumps(nb, sort_keys=True) == before:
        return False
    write_notebook(nb, path)
    return True


def colab_url(notebook_name: str) -> str:
    """Return the Open-in-Colab address of a lesson, built from ``labutils.REPO_URL``.

    Args:
        notebook_name: the file name in ``notebooks/``, e.g. ``"03_pets_dataset.ipynb"``.
    """
    colab = REPO_URL.replace("https://github.com", "https://colab.research.google.com/github")
    return f"{colab}/blob/main/notebooks/{notebook_name}"


def new_lesson(topic: str, notebooks_dir: Path, title: str | None = None) -> Path:
    """Copy the template to the next free lesson number, with title and Colab badge filled in.

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
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(notebook, as_version=4)
    try:
        NotebookClient(nb, timeout=timeout).execute(cwd=str(notebook.parent))
    except CellExecutionError as err:
        return nb, f"{err.ename}: {err.evalue}"
    return nb, None


def set_repo(url: str, root: Path = Path(".")) -> list[Path]:
    """Point a checkout of the course at another GitHub repository, e.g. an instructor's fork.

    Rewrites ``REPO_URL`` in ``labutils/__init__.py`` and every address of the old repository
    (plain and in its Colab form) in README.md, CONTRIBUTING.md, the lessons' badges and
    Setup cells, and the lesson template. Only the addresses change: the files stay
    byte-identical otherwise. Running it twice with the same address changes nothing.

    Args:
        url: the new repository, ``https://github.com/OWNER/NAME`` (a trailing ``/`` or
            ``.git`` is dropped).
        root: the checkout's top folder (the one with ``labutils/``).

    Returns:
        The files that changed.

    Raises:
        ValueError: ``url`` is not a GitHub repository address (Colab opens only those).
        FileNotFoundError: ``root`` has no ``labutils/__init__.py`` with a ``REPO_URL``.
    """
    new = url.strip().removesuffix("/").removesuffix(".git")
    if not _GITHUB_REPO.match(new):
        raise ValueError(
            f"{url!r} is not a GitHub repository address: give https://github.com/OWNER/NAME "
            "(Colab's badges open notebooks from GitHub only)."
        )
    root = Path(root)
    init = root / "labutils" / "__init__.py"
    found = _REPO_URL_LINE.search(init.read_text(encoding="utf-8")) if init.is_file() else None
    if found is None:
        raise FileNotFoundError(
            f"No REPO_URL in {init}: pass the checkout's top folder with --root."
        )
    old = found[1]
    template = root / "labutils" / "templates" / TEMPLATE.name
    files = [init, root / "README.md", root / "CONTRIBUTING.md", template]
    files += sorted((root / "notebooks").glob("*.ipynb"))
    changed = []
    for path in (f for f in files if f.is_file()):
        text = path.read_text(encoding="utf-8")
        rewritten = _replace_repo(text, old, new)
        if rewritten != text:
            path.write_text(rewritten, encoding="utf-8")
            changed.append(path)
    return changed


def _replace_repo(text: str, old: str, new: str) -> str:
    """Replace the repository ``old`` by ``new`` in ``text``, as written and in Colab's form."""
    to_colab = ("https://github.com", "https://colab.research.google.com/github")
    for before, after in ((old, new), (old.replace(*to_colab), new.replace(*to_colab))):
        text = re.sub(re.escape(before) + r"(?![A-Za-z0-9_-])", after, text)
    return text
