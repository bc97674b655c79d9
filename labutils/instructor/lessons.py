"""Instructor tools for the lesson notebooks: read, write and strip them, write their Setup
cell, start a new lesson from the template (labutils.instructor.rendering renders them to HTML).

The command line wraps them (labutils.cli.lessons); see CONTRIBUTING.md, "Editing the
lessons". Notebooks are read, validated and written by nbformat, in its own layout, and
stripped by nbstripout, the tool the pre-commit hook runs.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat

from labutils import REPO_BRANCH, REPO_URL

__all__ = [
    "COLAB_EXTRAS",
    "COLAB_PACKAGES",
    "NBSTRIPOUT_ARGS",
    "TEMPLATE",
    "colab_url",
    "new_lesson",
    "read_notebook",
    "setup_source",
    "strip_notebook",
    "write_notebook",
    "write_setup_block",
    "write_setup_cells",
]

#: nbstripout's options for the lessons (also the pre-commit hook's): keep the cell ids, which
#: it would otherwise renumber. Its defaults already keep tags and nbmake mocks.
NBSTRIPOUT_ARGS = ("--keep-id",)
#: The template notebook that ``new_lesson`` copies: the lesson anatomy, ready to fill in.
TEMPLATE = Path(__file__).resolve().parent / "templates" / "lesson.ipynb"

#: What the Setup cell installs on Colab besides labutils (Colab has TensorFlow and Keras).
COLAB_PACKAGES = ("keras-cv==0.9.0",)
#: What a lesson's Setup also installs on Colab when the lesson imports the module (the key);
#: the pin is requirements.txt's (tests/test_colab_install.py checks it).
COLAB_EXTRAS = {"keras_hub": "keras-hub==0.32.0"}

_SETUP = """# Setup: the only cell with environment logic. On Colab it installs what Colab lacks.
import sys
from pathlib import Path

if "google.colab" in sys.modules:  # Colab has TensorFlow and Keras: add only what it lacks
    %pip install -q {packages} "labutils @ git+{repo}@{branch}"
elif (Path.cwd() / "labutils").is_dir():  # a student edition: its labutils is beside it
    sys.path.insert(0, str(Path.cwd()))
elif (Path.cwd().parent / "labutils").is_dir():  # a checkout: labutils is one folder up
    sys.path.insert(0, str(Path.cwd().parent))

from labutils import env

env.setup_notebook(seed=42)  # prints the versions, the device and which labutils it imported"""
_SETUP_BLOCK = re.compile(r"(3\. \*\*Setup\*\*.*?\n\n)( *)```python\n.*?```", re.S)
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
    """Return the Open-in-Colab address of a lesson, from ``labutils.REPO_URL`` and its branch.

    Not used in a lesson: it writes each lesson's badge (CONTRIBUTING.md, "Add a lesson").

    Args:
        notebook_name: the file name in ``notebooks/``, e.g. ``"03_pets_dataset.ipynb"``.

    >>> url = colab_url("03_pets_dataset.ipynb")
    >>> url.startswith("https://colab.research.google.com/github/"), url.endswith(
    ...     f"/blob/{REPO_BRANCH}/notebooks/03_pets_dataset.ipynb")
    (True, True)
    """
    colab = REPO_URL.replace("https://github.com", "https://colab.research.google.com/github")
    return f"{colab}/blob/{REPO_BRANCH}/notebooks/{notebook_name}"


def setup_source(packages: tuple[str, ...] = COLAB_PACKAGES) -> str:
    """Return the Setup cell a lesson starts with, for ``labutils.REPO_URL`` and its branch.

    On Colab it installs ``packages`` (:func:`colab_packages` of the lesson) and labutils from
    the repository; elsewhere it imports the labutils of this copy of the course: the one
    beside the notebook (a student edition) or one folder up (a checkout), else the installed
    one; ``env.setup_notebook`` prints which. Not used in a lesson: it writes their Setup cell
    (CONTRIBUTING.md, "Anatomy of a lesson notebook").

    >>> setup_source().splitlines()[0]
    '# Setup: the only cell with environment logic. On Colab it installs what Colab lacks.'
    """
    return _SETUP.format(packages=" ".join(packages), repo=REPO_URL, branch=REPO_BRANCH)


def colab_packages(nb: nbformat.NotebookNode) -> tuple[str, ...]:
    """Return :data:`COLAB_PACKAGES` plus the :data:`COLAB_EXTRAS` every lesson's code imports."""
    code = "\n".join("".join(c.source) for c in nb.cells if c.cell_type == "code")
    uses = [
        p for m, p in COLAB_EXTRAS.items() if re.search(rf"^\s*(import|from) {m}\b", code, re.M)
    ]
    return (*COLAB_PACKAGES, *uses)


def write_setup_cells(notebooks: list[Path]) -> list[Path]:
    """Make the first code cell of each notebook :func:`setup_source`'s text.

    Not used in a lesson: ``python -m labutils setup-cells`` (CONTRIBUTING.md, "Anatomy of a
    lesson notebook"), e.g. after a merge that changed the Setup cell.

    Args:
        notebooks: ``.ipynb`` files whose first code cell is their Setup cell.

    Returns:
        The notebooks that changed; the others are left byte for byte.

    Raises:
        ValueError: a notebook has no code cell.
    """
    changed = []
    for path in map(Path, notebooks):
        nb = read_notebook(path)
        setup = next((c for c in nb.cells if c.cell_type == "code"), None)
        if setup is None:
            raise ValueError(f"{path} has no code cell: its first code cell is the Setup cell.")
        wanted = setup_source(colab_packages(nb))
        if "".join(setup.source) != wanted:
            setup.source = wanted
            write_notebook(nb, path)
            changed.append(path)
    return changed


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


def write_setup_block(markdown: Path) -> bool:
    """Make the Setup cell shown in CONTRIBUTING.md's anatomy :func:`setup_source`'s text.

    Not used in a lesson: ``python -m labutils setup-cells`` (CONTRIBUTING.md, "Anatomy of a
    lesson notebook") rewrites it with the lessons' Setup cells.

    Args:
        markdown: CONTRIBUTING.md, whose item "3. **Setup**" holds a fenced ``python`` block.

    Returns:
        ``True`` if the file changed.

    Raises:
        ValueError: the file has no such block.
    """
    text = Path(markdown).read_text(encoding="utf-8")
    found = _SETUP_BLOCK.search(text)
    if found is None:
        raise ValueError(f"{markdown} has no '3. **Setup**' item with a ```python block.")
    indent = found[2]
    lines = [indent + line if line else "" for line in setup_source().splitlines()]
    block = "\n".join([f"{indent}```python", *lines, f"{indent}```"])
    rewritten = text[: found.start()] + found[1] + block + text[found.end() :]
    if rewritten != text:
        Path(markdown).write_text(rewritten, encoding="utf-8")
    return rewritten != text
