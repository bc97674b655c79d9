"""The student edition: solutions replaced by stubs, nothing leaks, and it still executes."""

import argparse
import ast
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from labutils.cli import lessons as cli_lessons
from labutils.instructor import lessons, student

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOLUTION_DETAILS = re.compile(r"<details>\s*<summary>[^<]*solution.*?</details>", re.I | re.S)

CHECKER = """from labutils import checks

if answer is None:
    checks.not_answered("Exercise 1", "count the pet pixels")
else:
    checks.report("Exercise 1", None if answer == 2 else "wrong count", "count the pet pixels")"""


def make_lesson() -> dict:
    """A small lesson with every kind of solution: code, tagged prose, a <details> block."""
    cells = [
        new_markdown_cell("# 01 · A tiny lesson\n\nYou will learn to count."),
        new_code_cell("import numpy as np\n\nmask = np.array([[0, 1], [0, 2]])  # (2, 2) int"),
        new_code_cell("LIMIT = 100  # a knob", metadata={"nbmake": {"mock": {"LIMIT": 3}}}),
        new_markdown_cell(
            "**Exercise 1.** How many pixels are pet (class 0)? Store it in `answer`."
        ),
        new_code_cell(
            "# Exercise 1: count the pet pixels.\n# Store the count in `answer`.\n\n"
            "# the comparison marks pet pixels\n"
            "is_pet = mask == 0\n"
            "answer = int(is_pet.sum())",
            metadata={"tags": ["solution", "keep-me"]},
        ),
        new_code_cell(CHECKER),
        new_markdown_cell(
            "Think first.\n\n<details><summary>Solution</summary>\n\n"
            "Compare with zero and sum the booleans.\n</details>\n\nThen move on."
        ),
        new_markdown_cell(
            "The trick: `True` counts as 1 when summed.", metadata={"tags": ["solution"]}
        ),
        new_markdown_cell("**Exercise 2.** Show the mask."),
        new_code_cell(
            "# Exercise 2: print the mask.\nprint(mask)", metadata={"tags": ["solution"]}
        ),
        new_markdown_cell("<details><summary>Hint</summary>\nUse print.\n</details>"),
        new_code_cell('print("the end", LIMIT)'),
    ]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def secret_lines(nb: dict) -> set[str]:
    """Lines of the solutions (bar the exercise comments) that appear nowhere else in ``nb``."""
    secret, public = [], []
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if "solution" not in cell["metadata"].get("tags", []):
            public += SOLUTION_DETAILS.sub("", text).splitlines()
            secret += "\n".join(SOLUTION_DETAILS.findall(text)).splitlines()
        elif cell["cell_type"] == "code":
            lines = text.splitlines()
            while lines and lines[0].lstrip().startswith("#"):
                lines.pop(0)  # the exercise statement, kept on purpose
            secret += lines
        else:
            secret += text.splitlines()
    return {line.strip() for line in secret if line.strip()} - {line.strip() for line in public}


def leaked_lines(source_nb: dict, student_nb: dict) -> set[str]:
    student_lines = {
        line.strip() for c in student_nb["cells"] for line in "".join(c["source"]).splitlines()
    }
    return secret_lines(source_nb) & student_lines


@pytest.fixture
def lesson_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nbformat.write(make_lesson(), folder / "01_tiny.ipynb")
    return folder


def test_student_edition_replaces_solutions_and_keeps_everything_else(lesson_dir, tmp_path):
    [path] = student.write_student_edition(lesson_dir, tmp_path / "student")
    source_nb, student_nb = (
        lessons.read_notebook(lesson_dir / "01_tiny.ipynb"),
        lessons.read_notebook(path),
    )
    assert path.name == "01_tiny.ipynb"
    assert secret_lines(source_nb) >= {
        "answer = int(is_pet.sum())",
        "# the comparison marks pet pixels",
    }
    assert not leaked_lines(source_nb, student_nb)
    cells = student_nb["cells"]
    assert "".join(cells[4]["source"]) == (
        "# Exercise 1: count the pet pixels.\n# Store the count in `answer`.\n"
        "answer = None  # YOUR CODE HERE"
    )
    assert cells[4]["metadata"]["tags"] == ["keep-me"]
    assert cells[8]["metadata"]["tags"] == ["raises-exception"]
    assert "".join(cells[8]["source"]).endswith(
        'raise NotImplementedError("Exercise: replace this line with your code.")'
    )
    assert "".join(cells[6]["source"]) == "Think first.\n\nThen move on."
    kept = [0, 1, 2, 3, 5, 8, 10, 11]  # source cells without solutions, in order
    expected = [source_nb["cells"][i] for i in kept]
    actual = [cells[i] for i in (0, 1, 2, 3, 5, 7, 9, 10)]
    assert [json.dumps(c, sort_keys=True) for c in actual] == [
        json.dumps(c, sort_keys=True) for c in expected
    ]
    assert student_nb["metadata"] == source_nb["metadata"]
    assert len(cells) == len(source_nb["cells"]) - 1  # only the tagged prose cell is gone


@pytest.mark.parametrize(
    ("solution", "checker", "stub"),
    [
        ("inter = 1\nunion = 2\niou = inter / union", "print(iou)", "iou = None  # YOUR CODE HERE"),
        ("def iou(a, b):\n    return a / b", "print(iou(1, 2))", "iou = None  # YOUR CODE HERE"),
        (
            "x: int = 1\ny, (z, w) = 2, (3, 4)",
            "",
            "x = None  # YOUR CODE HERE\ny = None  # YOUR CODE HERE\n"
            "z = None  # YOUR CODE HERE\nw = None  # YOUR CODE HERE",
        ),
        ("import numpy as np\nnp.zeros(3)", "", "# YOUR CODE HERE\nraise NotImplementedError("),
    ],
    ids=["names-read-later", "function", "all-names-when-none-read-later", "no-name"],
)
def test_stub_sets_the_answer_names_to_none(solution, checker, stub):
    nb = new_notebook(
        cells=[new_code_cell(solution, metadata={"tags": ["solution"]}), new_code_cell(checker)]
    )
    assert "".join(student.make_student_notebook(nb)["cells"][0]["source"]).startswith(stub)


def test_solution_details_blocks_are_removed_and_others_kept():
    text = (
        "Before.\n\n<details><summary>Hint</summary>Look.</details>\n\n"
        "<details>\n<summary><b>Solution</b> (try first)</summary>\n\n"
        "<details><summary>Why</summary>Inner.</details>\nSecret.\n</details>\n\nAfter."
    )
    nb = new_notebook(
        cells=[
            new_markdown_cell(text),
            new_markdown_cell("<details><summary>SOLUTION</summary>x</details>"),
        ]
    )
    cells = student.make_student_notebook(nb)["cells"]
    assert len(cells) == 1, "a cell that held only a solution is dropped"
    assert "".join(cells[0]["source"]) == (
        "Before.\n\n<details><summary>Hint</summary>Look.</details>\n\nAfter."
    )


@pytest.mark.parametrize("text", ["<details><summary>Solution</summary>open", "closed</details>"])
def test_unbalanced_details_is_a_clear_error(text):
    nb = new_notebook(cells=[new_markdown_cell("intro"), new_markdown_cell(text)])
    with pytest.raises(ValueError, match="markdown cell 1 has"):
        student.make_student_notebook(nb)


def test_write_student_edition_rejects_bad_input(lesson_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match="pass the lessons folder"):
        student.write_student_edition(tmp_path / "missing", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="No .ipynb file"):
        student.write_student_edition(tmp_path / "empty", tmp_path / "out")
    with pytest.raises(ValueError, match="is the lessons folder"):
        student.write_student_edition(lesson_dir, lesson_dir)
    nb = new_notebook(cells=[new_code_cell("answer = (", metadata={"tags": ["solution"]})])
    nbformat.write(nb, lesson_dir / "02_broken.ipynb")
    with pytest.raises(ValueError, match=r"02_broken.ipynb: code cell 0 does not parse"):
        student.write_student_edition(lesson_dir / "02_broken.ipynb", tmp_path / "out")


CANARY = "04_building_unet.ipynb"  # a real lesson with seven exercises, all stubbed


def test_command_line_builds_runs_and_renders_the_student_edition(lesson_dir, tmp_path):
    """``student``, then ``render --ci-values``: the student editions of the tiny lesson and of
    lesson 04 run end to end with CI's values (nbmake's runner), each stub reaching its checker.

    Executing every lesson's student edition would run the course a second time; the other
    lessons' stubs are held by the rule below (no later cell reads an answer) and by every
    checker's "not answered yet" test (tests/test_checks_not_answered.py).
    """
    shutil.copy(ROOT / "notebooks" / CANARY, lesson_dir)
    parser = argparse.ArgumentParser()
    cli_lessons.add_subcommands(parser.add_subparsers(required=True))
    args = parser.parse_args(["student", str(lesson_dir), "--out", str(tmp_path / "out")])
    assert args.func(args) == 0
    render = ["render", str(tmp_path / "out"), "--ci-values", "--out", str(tmp_path / "html")]
    args = parser.parse_args(render)  # executes the student edition as nbmake does
    assert args.func(args) == 0
    tiny = (tmp_path / "html" / "01_tiny.html").read_text()
    assert "not answered yet" in tiny  # the stub's None reached the checker
    assert "the end 3" in tiny  # ran past the raising stub to the last cell, mock applied
    cells = lessons.read_notebook(tmp_path / "out" / CANARY)["cells"]
    stubs = sum("= None  # YOUR CODE HERE" in "".join(c["source"]) for c in cells)
    canary = (tmp_path / "html" / CANARY.replace(".ipynb", ".html")).read_text()
    assert stubs >= 3 and canary.count("not answered yet") == stubs, "a stub missed its checker"
    args = parser.parse_args(["new-lesson", "tiny_two", "--notebooks", str(lesson_dir)])
    assert args.func(args) == 0
    assert (lesson_dir / "05_tiny_two.ipynb").is_file()
    args = parser.parse_args(["strip", str(lesson_dir / "05_tiny_two.ipynb")])
    assert args.func(args) == 0


@pytest.mark.parametrize("notebook", LESSONS, ids=lambda p: p.name)
def test_no_solution_leaks_from_the_lessons(notebook):
    source_nb = lessons.read_notebook(notebook)
    assert not leaked_lines(source_nb, student.make_student_notebook(source_nb))


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp,
           ast.SetComp, ast.DictComp, ast.GeneratorExp)  # fmt: skip


def _own_names(scope: ast.AST) -> set[str]:
    """The names a def, lambda or comprehension binds for itself: parameters and targets."""
    args = [a.arg for a in ast.walk(scope) if isinstance(a, ast.arg)]
    stored = [n.id for n in ast.walk(scope) if isinstance(n, ast.Name) and type(n.ctx) is ast.Store]
    return set(args + stored)


class _Reads(ast.NodeVisitor):
    """Walks a cell in execution order: the names it reads before binding them itself.

    A def, lambda or comprehension reads the names it uses but does not bind; its name (for a
    def) is bound. ``x = f(x)`` reads x before binding it; ``for x in xs: print(x)`` does not.
    """

    def __init__(self) -> None:
        self.bound: set[str] = set()
        self.read: set[str] = set()

    def bind(self, target: ast.AST) -> None:
        self.bound |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}

    def visit_Name(self, node: ast.Name) -> None:
        if type(node.ctx) is ast.Load and node.id not in self.bound:
            self.read.add(node.id)
        else:
            self.bound.add(node.id)

    def visit_Assign(self, node: ast.Assign | ast.AnnAssign | ast.NamedExpr) -> None:
        if node.value is not None:
            self.visit(node.value)
        for target in getattr(node, "targets", None) or [node.target]:
            self.bind(target)

    visit_AnnAssign = visit_NamedExpr = visit_Assign

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        target = node.target  # x += 1 reads x first
        self.visit(ast.Name(target.id, ast.Load()) if isinstance(target, ast.Name) else target)
        self.visit(node.value)
        self.bind(node.target)

    def visit_For(self, node: ast.For) -> None:
        self.visit(node.iter)
        self.bind(node.target)
        for statement in node.body + node.orelse:
            self.visit(statement)

    def visit_withitem(self, node: ast.withitem) -> None:
        self.visit(node.context_expr)
        if node.optional_vars is not None:
            self.bind(node.optional_vars)

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        self.bound |= {alias.asname or alias.name.split(".")[0] for alias in node.names}

    visit_ImportFrom = visit_Import

    def generic_visit(self, node: ast.AST) -> None:
        if not isinstance(node, _SCOPES):
            return super().generic_visit(node)
        loaded = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        self.read |= (loaded - _own_names(node)) - self.bound
        if hasattr(node, "name"):
            self.bound.add(node.name)


def cell_tree(cell: dict) -> ast.Module:
    """A code cell's syntax tree (IPython's ``%`` magics parse as calls)."""
    return ast.parse(TransformerManager().transform_cell("".join(cell["source"])))


def answers_read_after_their_checker(nb: dict) -> list[str]:
    """Where a cell after an exercise's checker reads a name the exercise's solution binds.

    In the student edition that name is ``None`` or unbound, so the cell would fail. A name
    bound again by a later cell that is not a solution is fine after that cell.
    """
    code = [(k, c) for k, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]
    found = []
    for n, (i, cell) in enumerate(code):
        if "solution" not in cell["metadata"].get("tags", []):
            continue
        solution = _Reads()
        solution.visit(cell_tree(cell))
        answers = set(solution.bound)
        for j, later in code[n + 2 :]:  # after the checker, the next code cell
            if "solution" in later["metadata"].get("tags", []):
                continue  # replaced by a stub in the student edition
            reads = _Reads()
            reads.visit(cell_tree(later))
            for name in sorted(reads.read & answers):
                found.append(f"cell {j} reads {name!r}, bound by the solution in cell {i}")
            answers -= reads.bound
    return found


@pytest.mark.parametrize("notebook", LESSONS, ids=lambda p: p.name)
def test_no_name_a_solution_binds_is_read_after_its_checker(notebook):
    assert not answers_read_after_their_checker(lessons.read_notebook(notebook))


def test_the_read_after_checker_rule_catches_what_it_forbids():
    solution = {"tags": ["solution"]}
    nb = new_notebook(
        cells=[
            new_code_cell("import numpy as np\nmask = np.ones(3)"),
            new_code_cell("inter = 2\nunion = 4\niou = inter / union", metadata=solution),
            new_code_cell("checks.check_iou(iou)"),
            new_markdown_cell("Next section."),
            new_code_cell(
                "print(np.sum(mask))\nfor inter in range(2):\n    print(inter, [iou for _ in mask])"
            ),
            new_code_cell("def f(x):\n    union = x\n    return union + iou", metadata=solution),
            new_code_cell("checks.check_f(f)"),
            new_code_cell("union = union + 1"),
        ]
    )
    assert answers_read_after_their_checker(nb) == [
        "cell 4 reads 'iou', bound by the solution in cell 1",
        "cell 7 reads 'union', bound by the solution in cell 1",
    ]
