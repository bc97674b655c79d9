"""A student edition imports its own checkout's labutils, wherever it is built.

Two checkouts side by side, or a fork beside the original, share one environment where one
labutils is installed. The edition's folder holds a copy of the labutils it was built from,
which its Setup cell imports first; a lesson copied away from any labutils imports the
installed one, and its Setup cell says which.
"""

import shutil
from pathlib import Path

import pytest

from labutils.instructor import lessons, rendering, student

ROOT = Path(__file__).resolve().parents[1]
DECOY_ENV = """

def setup_notebook(seed=42):
    print("the decoy labutils of another checkout")
"""


@pytest.fixture
def decoy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Another checkout's labutils, first on the kernels' path as an installed one would be."""
    package = Path(shutil.copytree(ROOT / "labutils", tmp_path / "decoy" / "labutils"))
    with (package / "env.py").open("a") as env:
        env.write(DECOY_ENV)  # its Setup prints this instead of the versions
    monkeypatch.setenv("PYTHONPATH", str(package.parent))
    return package


def test_the_edition_uses_the_labutils_it_was_built_from(tmp_path, decoy):
    course = tmp_path / "course"  # a checkout: its lessons and its labutils
    shutil.copytree(ROOT / "labutils", course / "labutils",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    (course / "notebooks").mkdir()
    lesson = lessons.new_lesson("own_labutils", course / "notebooks")
    edition = tmp_path / "elsewhere" / "edition"
    student.write_student_edition(course / "notebooks", edition)
    assert (edition / "labutils" / student.COPY_MARK).read_text().strip() == str(
        course / "labutils"
    )
    [page] = rendering.render_html([edition / lesson.name], tmp_path / "html", ci_values=True)
    text = page.read_text()
    assert f"labutils from {edition / 'labutils'}" in text, "the Setup cell says which labutils"
    assert "not answered yet" in text and "decoy" not in text


def test_a_lesson_away_from_its_labutils_says_it_imports_the_installed_one(tmp_path, decoy):
    (tmp_path / "notebooks").mkdir()
    lesson = lessons.new_lesson("lost", tmp_path / "notebooks")
    student.write_student_edition(lesson, tmp_path / "edition")
    alone = Path(shutil.copytree(tmp_path / "edition", tmp_path / "alone",
                                 ignore=shutil.ignore_patterns("labutils")))  # fmt: skip
    [page] = rendering.render_html([alone / lesson.name], tmp_path / "html", ci_values=True)
    assert "the decoy labutils of another checkout" in page.read_text()


def test_building_an_edition_never_replaces_a_real_labutils(tmp_path):
    (tmp_path / "notebooks").mkdir()
    lesson = lessons.new_lesson("safe", tmp_path / "notebooks")
    (tmp_path / "out" / "labutils").mkdir(parents=True)
    with pytest.raises(ValueError, match="not a student edition's copy of labutils"):
        student.write_student_edition(lesson, tmp_path / "out")
    assert not (tmp_path / "out" / lesson.name).exists()
    student.write_student_edition(lesson, tmp_path / "edition")
    student.write_student_edition(lesson, tmp_path / "edition")  # a rebuild replaces its copy
    assert (tmp_path / "edition" / "labutils" / "checks" / "verdict.py").is_file()
