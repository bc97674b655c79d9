"""python -m labutils set-repo URL: a fork of the course points at its own repository."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from labutils import REPO_URL, fork, lessons

ROOT = Path(__file__).resolve().parents[1]
FORK = "https://github.com/a-teacher/pets-course"
COLAB = "https://colab.research.google.com/github"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the files that hold the repository's address."""
    for name in ("README.md", "CONTRIBUTING.md", "labutils/__init__.py",
                 "labutils/templates/lesson.ipynb"):  # fmt: skip
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))  # fmt: skip
    return tmp_path


def every_file(root: Path) -> dict[Path, str]:
    return {p: p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def test_set_repo_rewrites_repo_url_badges_and_every_setup_cell(checkout: Path):
    before = every_file(checkout)
    changed = fork.set_repo(FORK, checkout)
    after = every_file(checkout)
    assert set(changed) == {p for p in before if before[p] != after[p]}
    assert f'REPO_URL = "{FORK}"' in after[checkout / "labutils/__init__.py"]
    for path, text in after.items():
        assert REPO_URL not in text, f"{path} still names {REPO_URL}"
    readme = after[checkout / "README.md"]
    for nb in sorted((checkout / "notebooks").glob("*.ipynb")):
        badge = f"{COLAB}/a-teacher/pets-course/blob/main/notebooks/{nb.name}"
        if lessons.colab_url(nb.name) in before[checkout / "README.md"]:  # listed there
            assert badge in readme, f"README.md has the fork's badge of {nb.name}"
        cells = json.loads(nb.read_text())["cells"]
        setup = next(c for c in cells if c["cell_type"] == "code")
        assert f"git+{FORK}" in "".join(setup["source"]), f"{nb.name}'s Setup installs the fork"
        assert badge in "".join(cells[0]["source"]), f"{nb.name}'s title has the fork's badge"


def test_set_repo_changes_nothing_but_the_addresses(checkout: Path):
    before = every_file(checkout)
    fork.set_repo(FORK, checkout)
    fork.set_repo(REPO_URL, checkout)  # and back
    assert every_file(checkout) == before
    assert fork.set_repo(REPO_URL, checkout) == []  # already there: nothing to do


def test_a_new_lesson_after_set_repo_gets_the_fork_in_its_setup_cell(checkout: Path):
    fork.set_repo(FORK + ".git", checkout)  # the ".git" of a clone address is dropped
    template = (checkout / "labutils/templates/lesson.ipynb").read_text()
    assert f"git+{FORK}" in template and f"git+{FORK}.git" not in template


def test_set_repo_on_the_command_line(checkout: Path):
    run = subprocess.run(
        [sys.executable, "-m", "labutils", "set-repo", FORK + "/", "--root", str(checkout)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "rewrote" in run.stdout and f"now point at {FORK}" in run.stdout
    assert f"{COLAB}/a-teacher/pets-course/blob/main/" in (checkout / "README.md").read_text()


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
