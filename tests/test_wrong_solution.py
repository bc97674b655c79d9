"""A lesson whose solution fails its own checker fails its test; the student edition does not.

The test run sets ``SEGLAB_STRICT_CHECKS=1`` (conftest.py), so a checker that prints ❌ in an
executed notebook raises ``WrongAnswer``; "not answered yet" never raises.
"""

import os
import subprocess
import sys
from pathlib import Path

from labutils.checks.verdict import STRICT_ENV
from labutils.instructor import lessons, rendering, student

RIGHT = "pet_fraction = float(np.mean(masks == 0))"
WRONG = "pet_fraction = float(np.mean(masks == 2))  # the border, not the pet"


def nbmake(folder: Path, strict: str) -> subprocess.CompletedProcess:
    """Execute every notebook under ``folder`` as CI does, with the switch set to ``strict``."""
    command = [sys.executable, "-m", "pytest", "--nbmake", "-q", "-p", "no:cacheprovider", "."]
    env = {**os.environ, STRICT_ENV: strict}
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True,
                          timeout=600)  # fmt: skip


def test_a_wrong_solution_fails_and_its_student_edition_passes(tmp_path):
    (tmp_path / "notebooks").mkdir()
    lesson = lessons.new_lesson("wrong_answer", tmp_path / "notebooks")
    text = lesson.read_text(encoding="utf-8")
    assert RIGHT in text, "the template's solution changed: update this test"
    lesson.write_text(text.replace(RIGHT, WRONG), encoding="utf-8")
    student.write_student_edition(lesson, tmp_path / "notebooks" / "student")
    strict = nbmake(tmp_path / "notebooks", "1")
    assert strict.returncode == 1, strict.stdout[-3000:]
    assert "1 failed, 1 passed" in strict.stdout, "the solutions fail, the student edition runs"
    failure = rendering.plain_text(strict.stdout)  # nbmake colours the exception's name
    assert "WrongAnswer: Exercise 1 (pet fraction)" in failure, failure[-3000:]
    relaxed = nbmake(tmp_path / "notebooks", "0")  # as a student runs it: a verdict, no error
    assert relaxed.returncode == 0 and "2 passed" in relaxed.stdout, relaxed.stdout[-3000:]


def test_the_test_run_sets_the_switch():
    assert os.environ.get(STRICT_ENV) == "1", "conftest.py sets SEGLAB_STRICT_CHECKS=1"
