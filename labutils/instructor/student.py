"""The student edition: the lessons without their solutions, still runnable end to end.

In a lesson, a solution is marked in one of three ways (CONTRIBUTING.md, "Editing the lessons"):

- a code cell tagged ``solution``: replaced by a stub that keeps the cell's leading comment
  lines (the exercise statement, up to the first blank or code line) and sets the answer
  names to ``None`` (checkers then report "not answered yet"); a solution that assigns no
  name becomes ``raise NotImplementedError`` in a cell tagged ``raises-exception``, which
  nbmake allows;
- a markdown cell tagged ``solution``: dropped;
- a ``<details>`` block whose ``<summary>`` mentions "solution": removed from its cell.

Everything else (cells, metadata, nbmake mocks) is copied unchanged. The edition's folder also
gets a copy of the ``labutils`` of the checkout it was built from, which its Setup cells import
first, so it runs with its own checkers wherever it is and whatever labutils is installed. The
command line is ``python -m labutils student`` (labutils.cli.lessons).
"""

from __future__ import annotations

import ast
import copy
import re
import shutil
from pathlib import Path

from labutils.instructor import lessons

__all__ = [
    "COPY_MARK",
    "SOLUTION_TAG",
    "STUB_COMMENT",
    "make_student_notebook",
    "write_student_edition",
]

#: The cell tag that marks a solution (code or markdown).
SOLUTION_TAG = "solution"
#: The comment on each stub line the student replaces.
STUB_COMMENT = "# YOUR CODE HERE"
#: The file in an edition's copy of labutils that names the folder it was copied from.
COPY_MARK = "COPIED_FROM.txt"

_DETAILS = re.compile(r"<details\b[^>]*>|</details\s*>", re.IGNORECASE)
_SUMMARY = re.compile(r"<summary\b[^>]*>(.*?)</summary\s*>", re.IGNORECASE | re.DOTALL)


def make_student_notebook(nb: dict) -> dict:
    """Return a copy of a lesson notebook with its solutions replaced by stubs or removed.

    Not used in a lesson: an instructor tool (CONTRIBUTING.md, "Build the student edition").

    Args:
        nb: a notebook dict, as returned by ``lessons.read_notebook``.

    Returns:
        The student edition as a new dict; cells without a solution are unchanged copies.

    Raises:
        ValueError: a code cell does not parse, or a markdown cell has unbalanced
            ``<details>`` tags (the message names the cell).
    """
    nb = copy.deepcopy(nb)
    loads = [_loaded_names(cell, i) for i, cell in enumerate(nb["cells"])]
    cells = []
    for i, cell in enumerate(nb["cells"]):
        if SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            if cell["cell_type"] == "code":
                cells.append(_stub_cell(cell, i, set().union(*loads[i + 1 :])))
        elif cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            kept = _drop_solution_details(text, i)
            if kept != text:
                cell["source"] = kept.splitlines(keepends=True)
            if kept.strip():
                cells.append(cell)
        else:
            cells.append(cell)
    nb["cells"] = cells
    return nb


def write_student_edition(src: Path, out: Path) -> list[Path]:
    """Write the student edition of one lesson or of every lesson in a folder, with its labutils.

    ``out/labutils`` becomes a copy of the labutils beside the lessons' folder (the checkout's),
    or of the running one if there is none there; ``out/labutils/COPIED_FROM.txt`` names it.
    Not used in a lesson: an instructor tool (CONTRIBUTING.md, "Build the student edition").

    Args:
        src: a lessons folder (every ``*.ipynb`` in it) or one ``.ipynb`` file.
        out: the folder for the student edition, e.g. ``Path("_build/student")``; created if
            needed; must not be the folder of ``src`` (that would overwrite the solutions).

    Returns:
        The written notebooks, same file names as the sources, sorted.

    Raises:
        FileNotFoundError: ``src`` does not exist.
        ValueError: ``src`` holds no notebook, ``out`` is the source folder or holds a
            labutils that is not an edition's copy, or a lesson's solution cannot be made
            into a stub (the message names the notebook and cell).
    """
    src, out = Path(src), Path(out)
    if not src.exists():
        raise FileNotFoundError(f"No {src}: pass the lessons folder (notebooks/) or one notebook.")
    sources = sorted(src.glob("*.ipynb")) if src.is_dir() else [src]
    if not sources:
        raise ValueError(f"No .ipynb file in {src}: pass the lessons folder, e.g. notebooks/.")
    if out.resolve() == sources[0].parent.resolve():
        raise ValueError(f"--out {out} is the lessons folder: choose another, e.g. _build/student.")
    editions = []
    for source in sources:
        try:
            editions.append(make_student_notebook(lessons.read_notebook(source)))
        except ValueError as err:
            raise ValueError(f"{source}: {err}") from err
    _copy_labutils(sources[0].parent, out)
    for source, student_nb in zip(sources, editions, strict=True):
        lessons.write_notebook(student_nb, out / source.name)
    return [out / source.name for source in sources]


def _copy_labutils(lessons_dir: Path, out: Path) -> None:
    """Make ``out/labutils`` a copy of the lessons' checkout's labutils (else the running one)."""
    package = lessons_dir.resolve().parent / "labutils"
    if not (package / "__init__.py").is_file():
        package = Path(__file__).resolve().parents[1]  # labutils/, above instructor/
    target = out / "labutils"
    if target.exists() and not (target / COPY_MARK).is_file():
        raise ValueError(
            f"{target} exists and is not a student edition's copy of labutils: choose another "
            "--out, e.g. _build/student."
        )
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(package, target, ignore=shutil.ignore_patterns("__pycache__", "templates"))
    (target / COPY_MARK).write_text(f"{package}\n", encoding="utf-8")


def _parse_cell(cell: dict, index: int) -> ast.Module:
    """Parse a code cell, IPython magics included (``%pip`` becomes a function call)."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return ast.parse(TransformerManager().transform_cell("".join(cell["source"])))
    except SyntaxError as err:
        raise ValueError(
            f"code cell {index} does not parse ({err.msg}, line {err.lineno})."
        ) from err


def _loaded_names(cell: dict, index: int) -> set[str]:
    """Names a code cell reads (empty for other cells)."""
    if cell["cell_type"] != "code":
        return set()
    tree = _parse_cell(cell, index)
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _assigned_names(tree: ast.Module) -> list[str]:
    """Names bound at the top level by assignments, ``def`` and ``class``, in order."""
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            targets = [ast.Name(node.name, ast.Store())]
        elif isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        else:
            continue
        for target in targets:
            names += [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
    return list(dict.fromkeys(names))


def _stub_cell(cell: dict, index: int, later_loads: set[str]) -> dict:
    """Replace a solution code cell by its exercise comments and a stub.

    The stub assigns ``None`` to the solution's names that later cells read (all of them if
    none is read); with no name to assign, it raises NotImplementedError in a cell tagged
    ``raises-exception``.
    """
    lines = "".join(cell["source"]).splitlines()
    header = []  # the exercise statement: the comment lines before the first other line
    for line in lines:
        if not line.lstrip().startswith("#"):
            break
        header.append(line)
    assigned = _assigned_names(_parse_cell(cell, index))
    answers = [name for name in assigned if name in later_loads] or assigned
    tags = [t for t in cell["metadata"].get("tags", []) if t != SOLUTION_TAG]
    if answers:
        body = [f"{name} = None  {STUB_COMMENT}" for name in answers]
    else:
        body = [
            STUB_COMMENT,
            'raise NotImplementedError("Exercise: replace this line with your code.")',
        ]
        tags.append("raises-exception")
    stub = {
        **cell,
        "metadata": copy.deepcopy(cell["metadata"]),
        "outputs": [],
        "execution_count": None,
    }
    stub["source"] = "\n".join(header + body).splitlines(keepends=True)
    if tags:
        stub["metadata"]["tags"] = tags
    else:
        stub["metadata"].pop("tags", None)
    return stub


def _drop_solution_details(text: str, index: int) -> str:
    """Remove the top-level ``<details>`` blocks whose ``<summary>`` mentions "solution"."""
    spans, starts = [], []
    for tag in _DETAILS.finditer(text):
        if not tag[0].startswith("</"):
            starts.append(tag.start())
        elif not starts:
            raise ValueError(f"markdown cell {index} has a </details> without <details>.")
        elif len(starts) == 1:
            summary = _SUMMARY.search(text, starts[0], tag.end())
            if summary and "solution" in summary[1].lower():
                spans.append((starts[0], tag.end()))
            starts.pop()
        else:
            starts.pop()
    if starts:
        raise ValueError(f"markdown cell {index} has a <details> without </details>.")
    for start, end in reversed(spans):
        text = text[:start].rstrip("\n") + "\n\n" + text[end:].lstrip("\n")
    return text.strip("\n") if spans else text
