"""The package's shape (CONTRIBUTING.md, "Architecture"): small modules, imports flowing one way.

A module may import modules of its own layer or of the layers before it, never of a later one,
so there is no cycle and a newcomer can read the package from the top of the list down.
"""

import ast
import io
import json
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "labutils"
#: Lines of code in a module, not counting its docstrings, comments and blank lines.
MAX_CODE_LINES = 220

#: The layers, in the order data flows; CONTRIBUTING.md lists the same. Each module by its path
#: in labutils (``sources.folder`` is labutils/sources/folder.py; ``sources``, its __init__.py).
LAYERS = (
    ("vocabulary", "mask_inputs", "env", "splits"),  # names and checks every layer shares
    # data sources: data.py chooses among sources/ (the official folder, the synthetic pets)
    (
        "data",
        "sources",
        "sources.folder",
        "sources.synthetic",
        "sources.synthetic_animal",
        "sources.synthetic_paint",
        "photos",
    ),
    ("pipeline",),  # tf.data
    ("metrics", "bbox", "box_masks", "detection_metrics", "multi_pet"),  # scores and boxes
    ("models", "box_detector", "prompts", "losses", "dtype_policy"),  # models
    ("viz",),  # drawing masks: used by the training callback that shows predictions
    ("callbacks", "recipe", "training", "pretrained"),  # fitting
    ("evaluation",),  # scoring a trained model
    ("plots", "error_analysis", "playground_widget", "stepper_widget"),  # figures and widgets
)
#: Beside the flow: they may import any layer, and no layer imports them. A package here
#: (``cli``, ``instructor``, ``checks``) stands for all of its modules.
BESIDE = ("", "__main__", "checks", "cli", "instructor")


def _modules() -> dict[str, Path]:
    """Every module by its dotted path in labutils; a package's ``__init__.py`` by the package's."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _labutils_imports(path: Path) -> set[str]:
    """The labutils modules that ``path`` imports, by dotted path (``from labutils import x``)."""
    modules, names = _modules(), set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "labutils":
            package = node.module.removeprefix("labutils").lstrip(".")
            for alias in node.names:
                sub = f"{package}.{alias.name}".lstrip(".")
                names.add(sub if sub in modules else package)  # a module, or a name of one
        elif isinstance(node, ast.Import):
            names |= {a.name.removeprefix("labutils.") for a in node.names
                      if a.name.startswith("labutils.")}  # fmt: skip
    return names - {""}  # labutils/__init__.py holds only REPO_URL and __version__


def _place(name: str) -> str | None:
    """Where ``name`` is listed: itself in LAYERS, or itself or its package in BESIDE."""
    if any(name in layer for layer in LAYERS):
        return name
    prefixes = [name.rsplit(".", i)[0] for i in range(name.count(".") + 1)]  # a.b.c, a.b, a
    return next((p for p in prefixes if p in BESIDE), None)


def _layer(name: str) -> int | None:
    place = _place(name)
    if place in BESIDE:
        return None
    return next(i for i, layer in enumerate(LAYERS) if place in layer)


def _code_lines(source: str) -> int:
    """Lines holding code: not blank, not only a comment, not part of a docstring."""
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        kinds = ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
        if isinstance(node, kinds) and ast.get_docstring(node, clean=False) is not None:
            docstrings.update(range(node.body[0].lineno, node.body[0].end_lineno + 1))
    code = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                              tokenize.DEDENT, tokenize.ENDMARKER):  # fmt: skip
            code.update(range(token.start[0], token.end[0] + 1))
    return len(code - docstrings)


def test_code_lines_counts_code_only():
    source = '"""Doc.\n\nMore doc.\n"""\n\n# a comment\nX = 1  # counted\n\n\ndef f():\n' \
             '    """Doc."""\n    return """two\nlines"""\n'  # fmt: skip
    assert _code_lines(source) == 4  # X = 1, def f():, and the two lines of the returned string


@pytest.mark.parametrize("name", sorted(_modules()))
def test_module_is_short(name):
    lines = _code_lines(_modules()[name].read_text(encoding="utf-8"))
    assert lines <= MAX_CODE_LINES, f"labutils/{name} has {lines} lines of code: split it by job"


def test_every_module_has_a_place_in_the_architecture():
    unplaced = sorted(name for name in _modules() if _place(name) is None)
    assert not unplaced, f"add {unplaced} to LAYERS or BESIDE (and CONTRIBUTING.md)"
    gone = {n for layer in LAYERS for n in layer} | set(BESIDE)
    gone -= {".".join(m.split(".")[:i]) for m in _modules() for i in range(m.count(".") + 2)}
    assert not gone, f"{sorted(gone)} no longer exist: remove them here"


@pytest.mark.parametrize("name", sorted(n for n in _modules() if _layer(n) is not None))
def test_imports_flow_one_way(name):
    layer = _layer(name)
    for imported in _labutils_imports(_modules()[name]):
        assert _layer(imported) is not None, f"{name} imports {imported}, a tool beside the flow"
        assert _layer(imported) <= layer, (
            f"{name} (layer {layer}) imports {imported} (layer {_layer(imported)}): "
            "imports must flow from earlier layers to later ones"
        )


def test_contributing_lists_every_module():
    """Each by its path in labutils (``sources/folder.py``); the checkers by ``checks/``."""
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    paths = {str(p.relative_to(PACKAGE)) for p in _modules().values() if p.name != "__init__.py"}
    missing = [p for p in sorted(paths) if f"`{p}`" not in text and not p.startswith("checks/")]
    assert "`checks/`" in text and not missing, f"CONTRIBUTING.md does not list {missing}"


def _python_trees() -> dict[Path, ast.Module]:
    """The code of every module, test, benchmark and notebook (its cells, magics as ``pass``)."""
    trees = {p: ast.parse(p.read_text(encoding="utf-8")) for folder in ("labutils", "tests",
             "benchmarks") for p in sorted((ROOT / folder).rglob("*.py"))}  # fmt: skip
    for notebook in sorted(ROOT.glob("notebooks/*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        trees[notebook] = ast.parse(re.sub(r"(?m)^(\s*)[%!].*$", r"\1pass", code))
    return trees


def test_no_module_uses_a_private_name_of_another():
    """A helper that two modules share is public: ``from labutils.x import _y`` hides an API."""
    modules, found = _modules(), []
    for path, tree in _python_trees().items():
        bound = {}  # local name -> the labutils module it names
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("labutils"):
                package = node.module.removeprefix("labutils").lstrip(".")
                for alias in node.names:
                    sub = f"{package}.{alias.name}".lstrip(".")
                    if sub in modules:
                        bound[alias.asname or alias.name] = modules[sub]
                    elif alias.name.startswith("_") and modules.get(package) != path:
                        found.append(f"{path.relative_to(ROOT)}: {node.module}.{alias.name}")
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and bound.get(node.value.id, path) != path and node.attr.startswith("_")
                    and not node.attr.startswith("__")):  # fmt: skip
                found.append(f"{path.relative_to(ROOT)}: {node.value.id}.{node.attr}")
    assert not found, f"make them public (no underscore), or keep each in one module: {found}"


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


#: A lesson, or (for a helper that modules share) who uses it: "Used by ``labutils.data`` too".
LESSON = re.compile(r"lessons? \d\d|every lesson|Used by ``")
