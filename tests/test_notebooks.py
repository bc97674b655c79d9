"""Hygiene and anatomy of the lesson notebooks (nbmake executes them; this reads them)."""

import ast
import json
import re
from pathlib import Path

import pytest

from labutils import REPO_URL

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NAME = re.compile(r"^(\d\d)_[a-z0-9]+(_[a-z0-9]+)*\.ipynb$")
ABSOLUTE_PATH = re.compile(r"""["'\s(](/(?:work|home|Users|root|tmp|mnt|content)/|[A-Z]:\\)""")
GITHUB = re.compile(r"https://(?:colab\.research\.google\.com/)?github(?:\.com)?/[\w./@-]+")


def colab_url(notebook: Path) -> str:
    return REPO_URL.replace("https://github.com", "https://colab.research.google.com/github") + (
        f"/blob/main/notebooks/{notebook.name}"
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
    assert f"git+{REPO_URL}" in source(setup), "Setup installs labutils from REPO_URL on Colab"
    env_logic = [i for i, c in enumerate(nb) if "google.colab" in source(c) or "%pip" in source(c)]
    assert env_logic == [nb.index(setup)], "environment logic lives in the Setup cell only"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_no_absolute_paths_or_foreign_urls(notebook):
    text = "\n".join(source(c) for c in cells(notebook))
    assert not ABSOLUTE_PATH.search(text), ABSOLUTE_PATH.search(text)
    for url in GITHUB.findall(text):
        assert url.startswith((REPO_URL, colab_url(notebook).split("/blob/")[0])), url


def test_readme_lists_every_notebook_in_order_with_its_badge():
    readme = (ROOT / "README.md").read_text()
    positions = [readme.find(f"notebooks/{nb.name}") for nb in NOTEBOOKS]
    assert all(p >= 0 for p in positions), "README.md lists every notebook"
    assert positions == sorted(positions), "README.md lists the notebooks in order"
    for nb in NOTEBOOKS:
        assert colab_url(nb) in readme, f"README.md has the Colab badge of {nb.name}"
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
                "training photos (data.VAL_SPLIT), never from the test split"
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
