"""The package's shape (CONTRIBUTING.md, "Architecture"): small modules, imports flowing one way.

A module may import modules of its own layer or of the layers before it, never of a later one,
so there is no cycle and a newcomer can read the package from the top of the list down.
"""

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "labutils"
MAX_LINES = 300

#: The layers, in the order data flows; CONTRIBUTING.md lists the same.
LAYERS = (
    ("vocabulary", "masks", "env", "splits"),  # names and checks every layer shares
    ("data", "folder", "synthetic", "synthetic_animal", "synthetic_paint", "photos"),  # sources
    ("pipeline",),  # tf.data
    ("metrics", "bbox", "box_masks", "detection_metrics", "multi_pet"),  # scores and boxes
    ("models", "box_detector", "prompts", "losses", "precision"),  # models
    ("viz",),  # drawing masks: used by the training callback that shows predictions
    ("callbacks", "recipe", "training", "pretrained"),  # fitting
    ("evaluation",),  # scoring a trained model
    ("plots", "errors", "playground_widget", "stepper_widget"),  # figures and widgets
)
#: Beside the flow: they may import any layer, and no layer imports them.
BESIDE = ("__init__", "checks", "lessons", "student", "fork", "cli_numbers", "cli_train",
          "cli_evaluate", "cli_lessons", "__main__", "rendering")  # fmt: skip


def _modules() -> dict[str, Path]:
    files = sorted(PACKAGE.rglob("*.py"))
    return {str(p.relative_to(PACKAGE).with_suffix("")).replace("/", "."): p for p in files}


def _labutils_imports(path: Path) -> set[str]:
    """Top-level labutils module names that ``path`` imports (``checks.lesson01`` -> checks)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "labutils":
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("labutils."):
            names.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            names |= {a.name.split(".")[1] for a in node.names if a.name.startswith("labutils.")}
    return names - {"REPO_URL"}


def _layer(name: str) -> int | None:
    top = name.split(".")[0]
    if top in BESIDE:
        return None
    return next(i for i, layer in enumerate(LAYERS) if top in layer)


@pytest.mark.parametrize("name", sorted(_modules()))
def test_module_is_short(name):
    lines = len(_modules()[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"labutils/{name}.py has {lines} lines: split it by job"


def test_every_module_has_a_place_in_the_architecture():
    tops = {name.split(".")[0] for name in _modules()}
    placed = {name for layer in LAYERS for name in layer} | set(BESIDE)
    assert tops <= placed, f"add {sorted(tops - placed)} to LAYERS or BESIDE (and CONTRIBUTING.md)"
    assert placed <= tops, f"{sorted(placed - tops)} no longer exist: remove them here"


@pytest.mark.parametrize("name", sorted(n for n in _modules() if _layer(n) is not None))
def test_imports_flow_one_way(name):
    layer = _layer(name)
    for imported in _labutils_imports(_modules()[name]):
        assert imported not in BESIDE, f"{name} imports {imported}, a tool beside the flow"
        assert _layer(imported) <= layer, (
            f"{name} (layer {layer}) imports {imported} (layer {_layer(imported)}): "
            "imports must flow from earlier layers to later ones"
        )


def test_contributing_lists_every_module():
    text = (PACKAGE.parent / "CONTRIBUTING.md").read_text(encoding="utf-8")
    missing = [n for n in sorted({m.split(".")[0] for m in _modules()} - {"__init__"})
               if f"{n}.py" not in text and f"{n}/" not in text]  # fmt: skip
    assert not missing, f"CONTRIBUTING.md's Architecture section does not list {missing}"


def _public_definitions() -> list[tuple[str, str, str]]:
    """(module, name, docstring) of every public function and class of the lessons' modules."""
    found = []
    for name, path in _modules().items():
        if _layer(name) is None and not name.startswith("checks."):
            continue  # the instructor tools name their CONTRIBUTING.md section instead
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_"):
                found.append((name, node.name, ast.get_docstring(node) or ""))
    return found


def test_every_public_helper_names_the_lesson_that_uses_it():
    """d2l's "Defined in" habit: a reader of a helper can find the lesson cell that teaches it."""
    silent = [f"{m}.{n}" for m, n, doc in _public_definitions() if not LESSON.search(doc)]
    assert not silent, f"name the lesson section (e.g. 'Taught in lesson 03, §6 ...'): {silent}"


LESSON = re.compile(r"lessons? \d\d|every lesson")
