"""Exercises are numbered 1, 2, ... through a lesson, and each number is written three times.

CONTRIBUTING.md, "Add an exercise": the statement (``**Exercise N.**`` or
``**Exercise N (title).**``), the solution cell's
first comment (``# Exercise N: ...``) and the name its checker prints
(``Exercise("Exercise N (title)", hint)`` in ``labutils/checks/lessonNN.py``) carry the same N,
so a new exercise between two others takes the next number and the later ones move up.
"""

import json
import re
import types
from pathlib import Path

import pytest

from labutils import checks
from labutils.checks.verdict import Exercise

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
STATEMENT = re.compile(r"\*\*Exercise (\d+)(?: \([^)]*\))?\.\*\*")  # **Exercise 2 (title).**
SOLUTION = re.compile(r"#\s*Exercise (\d+)\b")
CHECKER = re.compile(r"checks\.(check_\w+)\(")


def exercises_in_order(notebook: Path) -> list[tuple[str, int, str]]:
    """("statement" | "solution" | "checker", cell index, number or checker name), in order."""
    found = []
    for i, cell in enumerate(json.loads(notebook.read_text(encoding="utf-8"))["cells"]):
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            found += [("statement", i, n) for n in STATEMENT.findall(text)]
        elif "solution" in cell["metadata"].get("tags", []):
            first = SOLUTION.match(text)
            found.append(("solution", i, first[1] if first else "none"))
        elif found_call := CHECKER.search(text):
            found.append(("checker", i, found_call[1]))
    return found


def exercise_of(checker: types.FunctionType) -> list[str]:
    """The names of the Exercise objects a checker's code refers to."""
    module = vars(__import__(checker.__module__, fromlist=["_"]))
    codes, names = [checker.__code__], set()
    while codes:
        code = codes.pop()
        names |= set(code.co_names)
        codes += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    found = []
    for value in (module.get(n) for n in sorted(names)):
        held = getattr(value, "__dict__", {}).values()  # e.g. lesson 04's blocks hold theirs
        found += [e.name for e in (value, *held) if isinstance(e, Exercise)]
    return found


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_exercises_are_numbered_in_order_the_same_in_all_three_places(notebook):
    stated = 0
    for kind, cell, value in exercises_in_order(notebook):
        where = f"{notebook.name}, cell {cell}"
        if kind == "statement":
            assert int(value) == stated + 1, f"{where}: Exercise {value} follows {stated}"
            stated = int(value)
        elif kind == "solution":
            assert value == str(stated), (
                f"{where}: solution starts '# Exercise {value}', not {stated}"
            )
        else:
            names = exercise_of(getattr(checks, value))
            expected = f"Exercise {stated} ("
            assert names, f"{value} declares no Exercise(...) in its module"
            assert all(n.startswith(expected) for n in names), f"{where}: {value} prints {names}"
