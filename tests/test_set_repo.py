"""python -m labutils set-repo URL: a fork of the course points at its own repository."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from labutils import REPO_BRANCH, REPO_URL
from labutils.instructor import fork, lessons

ROOT = Path(__file__).resolve().parents[1]
FORK = "https://github.com/a-teacher/pets-course"
COLAB = "https://colab.research.google.com/github"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the files that hold the repository's address."""
    for name in ("README.md", "CONTRIBUTING.md", "labutils/__init__.py",
                 "labutils/instructor/templates/lesson.ipynb"):  # fmt: skip
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))  # fmt: skip
    return tmp_path


def every_file(root: Path) -> dict[Path, str]:
    return {p: p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("branch", [None, "fall-2027"])
def test_set_repo_rewrites_repo_url_badges_and_every_setup_cell(checkout: Path, branch):
    before = every_file(checkout)
    changed = fork.set_repo(FORK, checkout, branch)
    after = every_file(checkout)
    assert set(changed) == {p for p in before if before[p] != after[p]}
    branch = branch or REPO_BRANCH  # None keeps the branch
    assert fork.read_repo(checkout) == (FORK, branch)
    for path, text in after.items():
        assert REPO_URL not in text, f"{path} still names {REPO_URL}"
    readme = after[checkout / "README.md"]
    for nb in sorted((checkout / "notebooks").glob("*.ipynb")):
        badge = f"{COLAB}/a-teacher/pets-course/blob/{branch}/notebooks/{nb.name}"
        if lessons.colab_url(nb.name) in before[checkout / "README.md"]:  # listed there
            assert badge in readme, f"README.md has the fork's badge of {nb.name}"
        cells = json.loads(nb.read_text())["cells"]
        setup = "".join(next(c for c in cells if c["cell_type"] == "code")["source"])
        assert f'git+{FORK}@{branch}"' in setup, f"{nb.name}'s Setup installs the fork's branch"
        assert badge in "".join(cells[0]["source"]), f"{nb.name}'s title has the fork's badge"


def test_set_repo_changes_nothing_but_the_addresses(checkout: Path):
    before = every_file(checkout)
    fork.set_repo(FORK, checkout, "fall-2027")
    fork.set_repo(REPO_URL, checkout, REPO_BRANCH)  # and back
    assert every_file(checkout) == before
    assert fork.set_repo(REPO_URL, checkout) == []  # already there: nothing to do


def test_a_new_lesson_after_set_repo_gets_the_fork_in_its_setup_cell(checkout: Path):
    fork.set_repo(FORK + ".git", checkout)  # the ".git" of a clone address is dropped
    template = (checkout / "labutils/instructor/templates/lesson.ipynb").read_text()
    assert f"git+{FORK}" in template and f"git+{FORK}.git" not in template


def test_set_repo_on_the_command_line_says_what_to_rebuild(checkout: Path):
    shutil.copytree(checkout / "notebooks", checkout / "_build" / "student")  # built before
    run = subprocess.run(
        [sys.executable, "-m", "labutils", "set-repo", FORK + "/", "--branch", "fall-2027",
         "--root", str(checkout)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "rewrote" in run.stdout and f"now point at {FORK}, branch fall-2027" in run.stdout
    assert "push to branch fall-2027" in run.stdout and "rebuild" in run.stdout
    stale = checkout / "_build" / "student" / "01_masks.ipynb"
    assert f"still names the old address: {stale}" in run.stdout
    assert f"{COLAB}/a-teacher/pets-course/blob/fall-2027/" in (checkout / "README.md").read_text()


def test_no_test_hard_codes_the_address():
    """The tests read REPO_URL and REPO_BRANCH, so set-repo leaves them green."""
    owner_name = REPO_URL.removeprefix("https://github.com/")
    for path in sorted((ROOT / "tests").glob("*.py")) + [ROOT / "conftest.py"]:
        text = path.read_text(encoding="utf-8")
        assert owner_name not in text, f"{path.name} names {owner_name}: use labutils.REPO_URL"
        assert f"{owner_name}/blob/" not in text, f"{path.name}: use labutils.REPO_BRANCH"


def test_the_address_checks_pass_after_set_repo(tmp_path: Path):
    """In a copy of the checkout published under a fork's branch, the tests that guard the
    addresses (badges, Setup cells, README, the Colab install line) still pass."""
    copy = tmp_path / "copy"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(
        ".git", ".venv", "data", "_build", "__pycache__", ".ipynb_checkpoints"))  # fmt: skip
    fork.set_repo(FORK, copy, "fall-2027")
    env = {**os.environ, "PYTHONPATH": str(copy)}
    tests = [
        "tests/test_notebooks.py",
        "tests/test_lessons.py",
        "labutils/instructor/lessons.py",
        "tests/test_colab_install.py::test_setup_cell_installs_keras_cv_and_labutils_on_colab",
    ]
    select = "anatomy or foreign or readme or setup or colab or next_number"  # the addresses
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", select, *tests],
        cwd=copy, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-4000:]
    assert " passed" in run.stdout and "error" not in run.stdout.splitlines()[-1]


@pytest.mark.parametrize(
    "url", ["https://gitlab.com/a/b", "github.com/a/b", "https://github.com/a", "not a url"]
)
def test_set_repo_refuses_what_colab_cannot_open(checkout: Path, url: str, capsys):
    from labutils.__main__ import main

    assert main(["set-repo", url, "--root", str(checkout)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1 and err[0].startswith("error: ") and "https://github.com/OWNER/NAME" in err[0]
    )
    assert every_file(checkout)[checkout / "README.md"] == (ROOT / "README.md").read_text()


def test_set_repo_needs_a_checkout(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="REPO_URL"):
        fork.set_repo(FORK, tmp_path)


@pytest.mark.parametrize("branch", ["-main", "a..b", "fall 2027", "dev/"])
def test_set_repo_refuses_what_is_not_a_branch(checkout: Path, branch: str):
    with pytest.raises(ValueError, match="is not a branch name"):
        fork.set_repo(FORK, checkout, branch)
    assert fork.read_repo(checkout) == (REPO_URL, REPO_BRANCH)
