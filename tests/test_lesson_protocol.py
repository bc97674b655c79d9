"""No lesson before 06 scores a model on the test photos: lesson 06 scores them once.

The check follows names through each lesson's code cells: a name assigned from anything that
mentions a test split (``splits.TEST_SPLIT``, ``TEST_SPLIT`` or a literal such as ``"test[:50%]"``)
or from such a name is "from the test photos"; no model may then be scored on it or predict it
(``evaluate_model``, ``.evaluate``, ``.predict``, ``mean_iou``...). Showing or counting the
test photos (lessons 01-03) stays allowed.
"""

import ast
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SCORING = {"evaluate_model", "evaluate", "predict", "predict_on_batch", "mean_iou",
           "iou_per_class", "confusion_matrix", "mean_iou_per_image", "pixel_accuracy"}  # fmt: skip
TEST_LITERAL = re.compile(r"^test($|\[|\+)")


def _code(notebook: Path) -> ast.Module:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    lines = [
        re.sub(r"^(\s*)[%!].*", r"\1pass", line)  # IPython magics and shell lines
        for cell in cells
        if cell["cell_type"] == "code"
        for line in "".join(cell["source"]).splitlines()
    ]
    return ast.parse("\n".join(lines))


def _mentions_test(node: ast.AST, tainted: set[str]) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and (sub.id == "TEST_SPLIT" or sub.id in tainted):
            return True
        if isinstance(sub, ast.Attribute) and sub.attr == "TEST_SPLIT":
            return True
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            if TEST_LITERAL.match(sub.value):
                return True
    return False


def _tainted_names(tree: ast.Module) -> set[str]:
    """Names bound, directly or through other names, from a test split (to a fixpoint)."""
    tainted: set[str] = set()
    while True:
        before = len(tainted)
        for node in ast.walk(tree):
            targets, value = [], None
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and node.value is not None:
                targets, value = [node.target], node.value
            elif isinstance(node, ast.For):
                targets, value = [node.target], node.iter
            if value is not None and _mentions_test(value, tainted):
                for target in targets:
                    tainted |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        if len(tainted) == before:
            return tainted


def test_scores_on_the_test_photos(tmp_path):
    """The check itself: it finds a model scored on the test photos through two names."""
    notebook = tmp_path / "03_x.ipynb"
    source = 'arrays = load("test[:8]")\nds = make(arrays)\nmodel.evaluate(ds)\n'
    notebook.write_text(json.dumps({"cells": [{"cell_type": "code", "source": [source]}]}))
    assert _test_scorings(notebook) == ["model.evaluate(ds)"]


def _test_scorings(notebook: Path) -> list[str]:
    tree = _code(notebook)
    tainted = _tainted_names(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = (
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        )
        if name in SCORING and any(
            _mentions_test(arg, tainted) for arg in (*node.args, *[k.value for k in node.keywords])
        ):
            found.append(ast.unparse(node))
    return found


@pytest.mark.parametrize("notebook", sorted(p.name for p in NOTEBOOKS.glob("0[1-5]_*.ipynb")))
def test_no_lesson_before_06_scores_the_test_photos(notebook):
    found = _test_scorings(NOTEBOOKS / notebook)
    assert not found, f"{notebook} scores on the test photos (only lesson 06 may): {found}"
