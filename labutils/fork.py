"""Point a copy of the course at its own GitHub repository (``python -m labutils set-repo``).

The repository's address is written once, as ``labutils.REPO_URL``; the README's badges, every
lesson's Colab badge and Setup cell, and the lesson template repeat it, and ``set_repo``
rewrites them all together.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["set_repo"]

_GITHUB_REPO = re.compile(r"^https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_REPO_URL_LINE = re.compile(r'^REPO_URL = "([^"]*)"$', re.M)
_TO_COLAB = ("https://github.com", "https://colab.research.google.com/github")
_TEMPLATE = Path("labutils", "templates", "lesson.ipynb")  # in the checkout: lessons.TEMPLATE


def set_repo(url: str, root: Path = Path(".")) -> list[Path]:
    """Point a checkout of the course at another GitHub repository, e.g. an instructor's fork.

    Rewrites ``REPO_URL`` in ``labutils/__init__.py`` and every address of the old repository
    (plain and in its Colab form) in README.md, CONTRIBUTING.md, the lessons' badges and
    Setup cells, and the lesson template. Only the addresses change: the files stay
    byte-identical otherwise. Running it twice with the same address changes nothing.
    Not used in a lesson: an instructor tool (README.md, "Editing the lessons").

    Args:
        url: the new repository, ``https://github.com/OWNER/NAME`` (a trailing ``/`` or
            ``.git`` is dropped).
        root: the checkout's top folder (the one with ``labutils/``).

    Returns:
        The files that changed.

    Raises:
        ValueError: ``url`` is not a GitHub repository address (Colab opens only those).
        FileNotFoundError: ``root`` has no ``labutils/__init__.py`` with a ``REPO_URL``.
    """
    new = url.strip().removesuffix("/").removesuffix(".git")
    if not _GITHUB_REPO.match(new):
        raise ValueError(
            f"{url!r} is not a GitHub repository address: give https://github.com/OWNER/NAME "
            "(Colab's badges open notebooks from GitHub only)."
        )
    root = Path(root)
    init = root / "labutils" / "__init__.py"
    found = _REPO_URL_LINE.search(init.read_text(encoding="utf-8")) if init.is_file() else None
    if found is None:
        raise FileNotFoundError(
            f"No REPO_URL in {init}: pass the checkout's top folder with --root."
        )
    old = found[1]
    files = [init, root / "README.md", root / "CONTRIBUTING.md", root / _TEMPLATE]
    files += sorted((root / "notebooks").glob("*.ipynb"))
    changed = []
    for path in (f for f in files if f.is_file()):
        text = path.read_text(encoding="utf-8")
        rewritten = _replace_repo(text, old, new)
        if rewritten != text:
            path.write_text(rewritten, encoding="utf-8")
            changed.append(path)
    return changed


def _replace_repo(text: str, old: str, new: str) -> str:
    """Replace the repository ``old`` by ``new`` in ``text``, as written and in Colab's form.

    >>> _replace_repo("see https://github.com/a/b and https://github.com/a/bc",
    ...               "https://github.com/a/b", "https://github.com/x/y")
    'see https://github.com/x/y and https://github.com/a/bc'
    """
    for before, after in ((old, new), (old.replace(*_TO_COLAB), new.replace(*_TO_COLAB))):
        text = re.sub(re.escape(before) + r"(?![A-Za-z0-9_-])", after, text)
    return text
