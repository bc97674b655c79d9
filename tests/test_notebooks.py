"""Hygiene and anatomy of the lesson notebooks (nbmake executes them; this reads them)."""

import ast
import json
import re
from pathlib import Path

import pytest

from labutils import REPO_BRANCH, REPO_URL
from labutils.instructor import lessons

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NAME = re.compile(r"^(\d\d)_[a-z0-9]+(_[a-z0-9]+)*\.ipynb$")
ABSOLUTE_PATH = re.compile(r"""["'\s(](/(?:work|home|Users|root|tmp|mnt|content)/|[A-Z]:\\)""")
GITHUB = re.compile(r"https://(?:colab\.research\.google\.com/)?github(?:\.com)?/[\w./@-]+")


def colab_url(notebook: Path) -> str:
    return REPO_URL.replace("https://github.com", "https://colab.research.google.com/github") + (
        f"/blob/{REPO_BRANCH}/notebooks/{notebook.name}"
    )


def cells(notebook: Path) -> list[dict]:
    return json.loads(notebook.read_text())["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def test_notebooks_are_numbered_without_gaps():
    assert NOTEBOOKS, "no notebooks found"
    names = [nb.name for nb in NOTEBOOKS]
    assert all(NAME.match(n) for n in names), f"names must look like NN_topic.ipynb: {names}"
    assert [int(n[:2]) for n in names] == list(range(1, len(names) + 1)), names


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stripped(notebook):
    for i, cell in enumerate(cells(notebook)):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"cell {i} has outputs: strip them"
            assert cell.get("execution_count") is None, f"cell {i} has an execution count"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_anatomy(notebook):
    nb = cells(notebook)
    title, setup = nb[0], next(c for c in nb if c["cell_type"] == "code")
    assert title["cell_type"] == "markdown"
    assert source(title).startswith(f"# {notebook.name[:2]} · "), "title: '# NN · Topic'"
    assert colab_url(notebook) in source(title), "the title cell has this notebook's Colab badge"
    markdown = [source(c) for c in nb if c["cell_type"] == "markdown"]
    assert any("You will learn" in m for m in markdown[:3]), "a 'You will learn' cell near the top"
    assert any(m.lstrip().startswith("## Summary") for m in markdown), "a '## Summary' section"
    assert "env.setup_notebook" in source(setup), "the first code cell is the Setup cell"
    assert f"git+{REPO_URL}@{REPO_BRANCH}" in source(setup), "Setup installs labutils on Colab"
    env_logic = [i for i, c in enumerate(nb) if "google.colab" in source(c) or "%pip" in source(c)]
    assert env_logic == [nb.index(setup)], "environment logic lives in the Setup cell only"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_absolute_paths_or_foreign_urls(notebook):
    text = "\n".join(source(c) for c in cells(notebook))
    assert not ABSOLUTE_PATH.search(text), ABSOLUTE_PATH.search(text)
    for url in GITHUB.findall(text):
        assert url.startswith((REPO_URL, colab_url(notebook).split("/blob/")[0])), url


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_setup_cell_is_the_canonical_one(notebook):
    setup = next(c for c in cells(notebook) if c["cell_type"] == "code")
    wanted = lessons.setup_source(lessons.colab_packages(lessons.read_notebook(notebook)))
    assert source(setup) == wanted, (
        f"{notebook.name}'s Setup cell is not labutils.instructor.lessons.setup_source(): "
        "rewrite every lesson's with python -m labutils setup-cells"
    )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_no_template_todo_is_left(notebook):
    todos = [i for i, c in enumerate(cells(notebook)) if "TODO" in source(c)]
    assert not todos, f"{notebook.name}: cells {todos} still hold the template's TODOs: fill them"


def test_readme_lists_every_notebook_in_order_with_its_badge():
    readme = (ROOT / "README.md").read_text()
    missing = [nb.name for nb in NOTEBOOKS if f"notebooks/{nb.name}" not in readme]
    assert not missing, f"README.md's lesson table does not list {missing}: add their rows"
    positions = [readme.find(f"notebooks/{nb.name}") for nb in NOTEBOOKS]
    assert positions == sorted(positions), "README.md lists the notebooks in order"
    for nb in NOTEBOOKS:
        assert colab_url(nb) in readme, f"README.md lacks {nb.name}'s badge {colab_url(nb)}"
    assert all(url.startswith(REPO_URL) or "colab" in url for url in GITHUB.findall(readme))


VALIDATION_NAME = re.compile(r"(^|_)VAL(IDATION)?(_\w+)?_SPLIT$")


def validation_splits(cell: dict) -> dict[str, str]:
    """Names like VAL_SPLIT in a Configuration cell and its mocks -> the split they hold."""
    found = {}
    for node in ast.walk(ast.parse(source(cell))):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and VALIDATION_NAME.search(target.id):
                    found[target.id] = ast.unparse(node.value)
    mocks = cell.get("metadata", {}).get("nbmake", {}).get("mock", {})
    found.update({f"mock {k}": repr(v) for k, v in mocks.items() if VALIDATION_NAME.search(k)})
    return found


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_no_lesson_validates_on_the_test_split(notebook):
    configs = [c for c in cells(notebook) if source(c).startswith("# Configuration")]
    for cell in configs:
        for name, value in validation_splits(cell).items():
            assert "test" not in value.lower(), (
                f"{name} = {value}: validation chooses the model, so it must come from the "
                "training photos (splits.VAL_SPLIT), never from the test split"
            )


def test_the_protocol_check_catches_a_test_validation_split():
    cell = {"source": 'VAL_SPLIT = "test"\nTRAIN_SPLIT = "train"', "metadata": {}}
    assert validation_splits(cell) == {"VAL_SPLIT": "'test'"}
    cell = {"source": "VAL_SPLIT = data.VAL_SPLIT", "metadata": {"nbmake": {"mock": {
        "VAL_SPLIT": "test[:16]"}}}}  # fmt: skip
    assert validation_splits(cell) == {
        "VAL_SPLIT": "data.VAL_SPLIT",
        "mock VAL_SPLIT": "'test[:16]'",
    }


# --- CONTRIBUTING's cell rules: short cells, labelled plumbing, checkers after solutions -------
MAX_CELL_LINES = 10  # "short code cells (≤ 10 lines)"
EXTRA_CODE = re.compile(r"extra[ _-]*code", re.I)
EXTRA_CODE_LABEL = re.compile(r"^# extra code – \S")  # exactly this: an en dash, then the why


def parsed(cell: dict) -> ast.Module:
    """A code cell's syntax tree, IPython magics included (``%pip`` becomes a call)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return ast.parse(TransformerManager().transform_cell(source(cell)))


def is_solution(cell: dict) -> bool:
    return cell["cell_type"] == "code" and "solution" in cell["metadata"].get("tags", [])


def is_imports_cell(cell: dict) -> bool:
    """Only imports and ``SOURCE = data.find_source()``: the rest of CONTRIBUTING's Setup."""
    for node in parsed(cell).body:
        value = getattr(node, "value", None)
        finds_source = isinstance(value, ast.Call) and ast.unparse(value.func) == "data.find_source"
        if not (isinstance(node, ast.Import | ast.ImportFrom) or finds_source):
            return False
    return True


def long_cells(nb: list[dict]) -> list[str]:
    """Code cells of the sections over MAX_CELL_LINES lines, bar stated exemptions.

    CONTRIBUTING's rule is for the sections' cells: the Setup cell (the first code cell) and
    the imports after it, and the Configuration cell of knobs, are not counted. An exemption
    is the cell metadata ``{"lab": {"long": "why it cannot be shorter"}}``: the reader of the
    lesson does not see it, the reviewer does.
    """
    code = [i for i, c in enumerate(nb) if c["cell_type"] == "code"]
    anatomy = set(code[:1]) | {i for i in code[1:2] if is_imports_cell(nb[i])}
    found = []
    for i in code:
        lines = len(source(nb[i]).splitlines())
        why = nb[i]["metadata"].get("lab", {}).get("long")
        stated = isinstance(why, str) and why.strip()
        configuration = source(nb[i]).startswith("# Configuration")
        if lines > MAX_CELL_LINES and not (stated or configuration or i in anatomy):
            found.append(f"cell {i}: {lines} lines")
    return found


def mislabelled_extra_code(nb: list[dict]) -> list[str]:
    """Comments that mention extra code but are not written ``# extra code – why``."""
    import io
    import tokenize

    found = []
    for i, cell in enumerate(nb):
        if cell["cell_type"] != "code" or not EXTRA_CODE.search(source(cell)):
            continue
        for token in tokenize.generate_tokens(io.StringIO(source(cell)).readline):
            if token.type == tokenize.COMMENT and EXTRA_CODE.search(token.string):
                if not EXTRA_CODE_LABEL.match(token.string):
                    found.append(f"cell {i}: {token.string!r}")
    return found


def checker_call(tree: ast.Module) -> ast.Call | None:
    """The first ``checks.check_...(...)`` call in a code cell's tree, if any."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id == "checks":
                if node.func.attr.startswith("check_"):
                    return node
    return None


def uses_checks(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.Attribute) and getattr(node.value, "id", None) == "checks"
        for node in ast.walk(tree)
    )


def checker_problems(nb: list[dict]) -> list[str]:
    """Checker cells that do not follow the rule every lesson follows.

    A solution code cell is followed, in the very next cell, by its checker: a code cell that
    uses ``labutils.checks``. A cell that calls ``checks.check_...(...)`` is such a checker:
    it comes right after a solution cell and is that one call, as an expression whose
    ``Verdict`` Jupyter shows (it prints its message and displays nothing more), neither
    assigned and dropped nor silenced with a trailing ``;``.
    """
    found = []
    for i, cell in enumerate(nb):
        if cell["cell_type"] != "code":
            continue
        tree = parsed(cell)
        after_solution = i > 0 and is_solution(nb[i - 1])
        if after_solution and not uses_checks(tree):
            found.append(f"cell {i}: follows solution cell {i - 1} but checks nothing")
        call = checker_call(tree)
        if call is None:
            continue
        body = tree.body
        if not after_solution:
            found.append(f"cell {i}: calls checks.{call.func.attr} but follows no solution cell")
        if len(body) != 1 or not (isinstance(body[0], ast.Expr) and body[0].value is call):
            found.append(f"cell {i}: is not just the call checks.{call.func.attr}(...)")
        if source(cell).rstrip().endswith(";"):
            found.append(f"cell {i}: ends in ';' (a Verdict shows nothing more: drop it)")
    return found


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_code_cells_are_short_or_say_why(notebook):
    found = long_cells(cells(notebook))
    assert not found, (
        f"code cells over {MAX_CELL_LINES} lines (split them, or state why in the cell "
        f'metadata {{"lab": {{"long": "why"}}}}): ' + "; ".join(found)
    )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_extra_code_is_labelled_one_way(notebook):
    found = mislabelled_extra_code(cells(notebook))
    assert not found, "write plumbing labels as '# extra code – why': " + "; ".join(found)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_every_solution_is_checked_in_the_next_cell(notebook):
    found = checker_problems(cells(notebook))
    assert not found, "; ".join(found)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_in_nbformat_layout(notebook):
    """The file is what nbformat writes, so a tool's read/write round trip changes no byte."""
    import nbformat

    written = nbformat.writes(nbformat.read(notebook, as_version=4)) + "\n"
    assert notebook.read_text(encoding="utf-8") == written, (
        "not in nbformat's layout (sorted keys, sources as lists of lines): rewrite it with "
        "nbformat.write(nbformat.read(path, as_version=4), path)"
    )


def code(text: str, **metadata: object) -> dict:
    return {"cell_type": "code", "source": text, "metadata": metadata}


def test_the_cell_rules_catch_what_they_forbid():
    setup = code("\n".join(["import sys"] * 12))
    imports = code("\n".join(["import os"] * 10 + ["SOURCE = data.find_source()"]))
    eleven = "\n".join(["x = 1"] * 11)
    exempt = code(eleven, lab={"long": "one figure"})
    nb = [setup, imports, code(eleven), exempt, code("x = 1"), code("# Configuration\n" + eleven),
          code(imports["source"]), code(eleven, lab={})]  # fmt: skip
    assert long_cells(nb) == ["cell 2: 11 lines", "cell 6: 11 lines", "cell 7: 11 lines"]
    nb = [code("# extra code - a hyphen"), code("x = 1  # Extra code: colon"),
          code("# extra code – fine\ny = 2  # extra code – fine too")]  # fmt: skip
    assert mislabelled_extra_code(nb) == ["cell 0: '# extra code - a hyphen'",
                                          "cell 1: '# Extra code: colon'"]  # fmt: skip
    solution = code("answer = 2", tags=["solution"])
    nb = [solution, code("checks.check_it(answer)"), solution, code("ok = checks.check_it(answer)"),
          solution, code("checks.check_it(answer);"), code("checks.check_it(answer)"),
          solution, code("print(answer)")]  # fmt: skip
    assert checker_problems(nb) == [
        "cell 3: is not just the call checks.check_it(...)",
        "cell 5: ends in ';' (a Verdict shows nothing more: drop it)",
        "cell 6: calls checks.check_it but follows no solution cell",
        "cell 8: follows solution cell 7 but checks nothing",
    ]
