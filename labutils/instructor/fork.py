"""Point a copy of the course at its own GitHub repository (``python -m labutils set-repo``).

The repository's address and branch are written once, as ``labutils.REPO_URL`` and
``labutils.REPO_BRANCH``; the README's badges, every lesson's Colab badge and Setup cell, and
the lesson template repeat them, and ``set_repo`` rewrites them all together.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["read_repo", "set_repo", "stale_builds"]

_GITHUB_REPO = re.compile(r"^https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_BRANCH = re.compile(r"^(?![-/.])(?!.*\.\.)[A-Za-z0-9._/-]+(?<![/.])$")
_REPO_URL_LINE = re.compile(r'^REPO_URL = "([^"]*)"$', re.M)
_REPO_BRANCH_LINE = re.compile(r'^REPO_BRANCH = "([^"]*)"$', re.M)
_TO_COLAB = ("https://github.com", "https://colab.research.google.com/github")
_NAME_GOES_ON = r"(?![A-Za-z0-9_-]|\.[A-Za-z0-9])"  # the address is not part of a longer one
# in the checkout: lessons.TEMPLATE
_TEMPLATE = Path("labutils", "instructor", "templates", "lesson.ipynb")


def read_repo(root: Path = Path(".")) -> tuple[str, str]:
    """Return the repository address and branch a checkout points at (``labutils/__init__.py``).

    Not used in a lesson: an instructor tool (CONTRIBUTING.md, "Publish the course under
    another address").

    Raises:
        FileNotFoundError: ``root`` has no ``labutils/__init__.py`` with ``REPO_URL`` and
            ``REPO_BRANCH``.
    """
    init = Path(root) / "labutils" / "__init__.py"
    text = init.read_text(encoding="utf-8") if init.is_file() else ""
    url, branch = _REPO_URL_LINE.search(text), _REPO_BRANCH_LINE.search(text)
    if url is None or branch is None:
        raise FileNotFoundError(
            f"No REPO_URL and REPO_BRANCH in {init}: pass the checkout's top folder with --root."
        )
    return url[1], branch[1]


def set_repo(url: str, root: Path = Path("."), branch: str | None = None) -> list[Path]:
    """Point a checkout of the course at another GitHub repository or branch, e.g. a fork.

    Rewrites ``REPO_URL`` and ``REPO_BRANCH`` in ``labutils/__init__.py`` and every address of
    the old repository (plain, in its Colab form with the branch, and in the Setup cell's
    ``git+URL@BRANCH``) in README.md, CONTRIBUTING.md, the lessons' badges and Setup cells,
    and the lesson template. Only the addresses change: the files stay byte-identical
    otherwise. Running it twice with the same address changes nothing. Not used in a
    lesson: an instructor tool (CONTRIBUTING.md, "Publish the course under another address").

    Args:
        url: the new repository, ``https://github.com/OWNER/NAME`` (a trailing ``/`` or
            ``.git`` is dropped).
        root: the checkout's top folder (the one with ``labutils/``).
        branch: the branch Colab opens the lessons from; ``None`` keeps the current one.

    Returns:
        The files that changed.

    Raises:
        ValueError: ``url`` is not a GitHub repository address (Colab opens only those), or
            ``branch`` is not a branch name.
        FileNotFoundError: ``root`` has no ``labutils/__init__.py`` with ``REPO_URL``.
    """
    new = url.strip().removesuffix("/").removesuffix(".git")
    if not _GITHUB_REPO.match(new):
        raise ValueError(
            f"{url!r} is not a GitHub repository address: give https://github.com/OWNER/NAME "
            "(Colab's badges open notebooks from GitHub only)."
        )
    if branch is not None and not _BRANCH.match(branch):
        raise ValueError(f"{branch!r} is not a branch name: give one like main or fall-2027.")
    root = Path(root)
    old, old_branch = read_repo(root)
    new_branch = old_branch if branch is None else branch
    files = [root / "labutils" / "__init__.py", root / "README.md", root / "CONTRIBUTING.md"]
    files += [root / _TEMPLATE, *sorted((root / "notebooks").glob("*.ipynb"))]
    changed = []
    for path in (f for f in files if f.is_file()):
        text = path.read_text(encoding="utf-8")
        rewritten = _replace_repo(text, (old, old_branch), (new, new_branch))
        if rewritten != text:
            path.write_text(rewritten, encoding="utf-8")
            changed.append(path)
    return changed


def stale_builds(root: Path, url: str, branch: str) -> list[Path]:
    """The files under ``root/_build`` that link to ``url``'s Colab badges on ``branch``.

    Not used in a lesson: ``set-repo`` lists them after a change of address, since the student
    edition and rendered pages were built from the old one (CONTRIBUTING.md, "Publish the
    course under another address").
    """
    badge = f"{url.replace(*_TO_COLAB)}/blob/{branch}/"
    built = sorted(p for p in (Path(root) / "_build").rglob("*") if p.is_file())
    return [p for p in built if badge in p.read_text(encoding="utf-8", errors="ignore")]


def _replace_repo(text: str, old: tuple[str, str], new: tuple[str, str]) -> str:
    """Replace the repository and branch ``old`` by ``new`` in ``text``, in every form.

    >>> _replace_repo("https://github.com/a/b/blob/main/x and https://github.com/a/bc",
    ...               ("https://github.com/a/b", "main"), ("https://github.com/x/y", "dev"))
    'https://github.com/x/y/blob/dev/x and https://github.com/a/bc'
    """
    (old_url, old_branch), (new_url, new_branch) = old, new
    text = text.replace(f'\nREPO_BRANCH = "{old_branch}"', f'\nREPO_BRANCH = "{new_branch}"')
    colab = (old_url.replace(*_TO_COLAB), new_url.replace(*_TO_COLAB))
    for before, after in ((old_url, new_url), colab):
        for kind in ("blob", "tree"):
            text = text.replace(f"{before}/{kind}/{old_branch}/", f"{after}/{kind}/{new_branch}/")
        pip = re.escape(f"git+{before}@{old_branch}") + r"(?![A-Za-z0-9._/-])"
        text = re.sub(pip, lambda _, new=f"git+{after}@{new_branch}": new, text)
        text = re.sub(re.escape(before) + _NAME_GOES_ON, lambda _, new=after: new, text)
    return text
