"""The instructors' commands of ``python -m labutils``: ``student``, ``new-lesson``, ``render``,
``strip``, ``setup-cells`` and ``set-repo`` (CONTRIBUTING.md, "Editing the lessons").

Each command is a thin wrapper over labutils.instructor.student, lessons, rendering or fork,
imported when it runs: ``train`` and ``evaluate`` need none of the instructor packages
(pyproject's ``instructor`` extra: nbformat, nbstripout, ...). None imports TensorFlow.
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_subcommands"]

_SET_REPO_DESCRIPTION = (
    "Rewrite labutils.REPO_URL and REPO_BRANCH and every address of the old repository and "
    "branch in README.md, CONTRIBUTING.md, the lessons (Colab badges, Setup cells) and the "
    "lesson template, e.g. after forking the course."
)
_RENDER_WARNING = (
    "Rendering {count} lesson(s) at their teaching values: each takes the run time its title "
    "states (every lesson together: well over half an hour on a laptop CPU). Add --ci-values "
    "for CI's shortened values."
)
_COLAB_BADGE = "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"


def add_subcommands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``student``, ``new-lesson``, ``render``, ``strip``, ``setup-cells``, ``set-repo``.

    Each sets ``func``: the caller runs ``args.func(args)`` and exits with the int it returns.
    Not used in a lesson: the instructors' command line (CONTRIBUTING.md, "Editing the
    lessons").

    Args:
        subparsers: the object returned by ``parser.add_subparsers()`` of ``python -m labutils``.
    """
    edition = subparsers.add_parser("student", help="write the student edition (no solutions)")
    edition.add_argument("src", type=Path, nargs="?", default=Path("notebooks"))
    edition.add_argument("--out", type=Path, default=Path("_build/student"))
    edition.set_defaults(func=_run_student)
    lesson = subparsers.add_parser("new-lesson", help="start a lesson from the template")
    lesson.add_argument("topic", help="lower case with underscores, e.g. instance_masks")
    lesson.add_argument("--title", help="the title after '# NN ·' (default: the topic in words)")
    lesson.add_argument("--notebooks", type=Path, default=Path("notebooks"))
    lesson.set_defaults(func=_run_new_lesson)
    render = subparsers.add_parser("render", help="execute lessons and write them as HTML")
    render.add_argument("notebooks", type=Path, nargs="*", help="files or folders (notebooks/)")
    render.add_argument("--out", type=Path, default=Path("_build/html"))
    render.add_argument("--ci-values", action="store_true", help="apply CI's nbmake mocks")
    render.set_defaults(func=_run_render)
    strip = subparsers.add_parser("strip", help="remove outputs and execution counts")
    strip.add_argument("notebooks", type=Path, nargs="+")
    strip.set_defaults(func=_run_strip)
    setup = subparsers.add_parser("setup-cells", help="rewrite every lesson's Setup cell")
    setup.add_argument(
        "notebooks", type=Path, nargs="*", help="default: notebooks/, the template, CONTRIBUTING"
    )
    setup.set_defaults(func=_run_setup_cells)
    _add_set_repo(subparsers)


def _add_set_repo(subparsers: argparse._SubParsersAction) -> None:
    what = "point the course at another GitHub repository (REPO_URL, badges, Setup cells)"
    set_repo = subparsers.add_parser("set-repo", help=what, description=_SET_REPO_DESCRIPTION)
    set_repo.add_argument("url", help="https://github.com/OWNER/NAME")
    set_repo.add_argument("--branch", help="the branch Colab uses (default: keep the current one)")
    set_repo.add_argument("--root", type=Path, default=Path("."), help="the checkout (default .)")
    set_repo.set_defaults(func=_run_set_repo)


def _run_student(args: argparse.Namespace) -> int:
    from labutils.instructor import student

    for path in student.write_student_edition(args.src, args.out):
        print(f"wrote {path}")
    copied = (args.out / "labutils" / student.COPY_MARK).read_text(encoding="utf-8").strip()
    print(f"wrote {args.out / 'labutils'}, the copy of {copied} that these notebooks import")
    return 0


def _run_new_lesson(args: argparse.Namespace) -> int:
    from labutils.instructor import lessons

    path = lessons.new_lesson(args.topic, args.notebooks, args.title)
    heading = lessons.read_notebook(path)["cells"][0]["source"][0]  # "# 06 · Title\n"
    print(
        f"created {path}: replace every TODO in it, then\n"
        "1. add its row to the lesson table in README.md:\n"
        f"   | {int(path.name[:2])} | [{heading.split(' · ', 1)[1].strip()}]"
        f"(notebooks/{path.name}) | TODO | {_COLAB_BADGE}({lessons.colab_url(path.name)}) |\n"
        "2. link it from the Summary of the lesson before it;\n"
        f"3. test it and its student edition (CONTRIBUTING.md, Tests): pytest {path}, then\n"
        f"   python -m labutils student {path} --out _build/student and python -m labutils "
        f"render _build/student/{path.name} --ci-values --out _build/html/student"
    )
    return 0


def _run_render(args: argparse.Namespace) -> int:
    from labutils.instructor import rendering

    notebooks = _notebooks(args.notebooks or [Path("notebooks")])
    if not args.ci_values:
        print(_RENDER_WARNING.format(count=len(notebooks)), flush=True)
    try:
        pages = rendering.render_html(notebooks, args.out, ci_values=args.ci_values)
    except RuntimeError as err:
        print(err)
        return 1
    print(f"wrote {len(pages)} pages; open {args.out / 'index.html'}")
    return 0


def _notebooks(paths: list[Path]) -> list[Path]:
    """The ``.ipynb`` files named, a folder standing for every notebook in it."""
    return [nb for p in paths for nb in (sorted(p.glob("*.ipynb")) if p.is_dir() else [p])]


def _run_strip(args: argparse.Namespace) -> int:
    from labutils.instructor import lessons

    for path in args.notebooks:
        if lessons.strip_notebook(path):
            print(f"stripped {path}")
    return 0


def _run_setup_cells(args: argparse.Namespace) -> int:
    from labutils.instructor import lessons

    notebooks = _notebooks(args.notebooks or [Path("notebooks"), lessons.TEMPLATE])
    changed = lessons.write_setup_cells(notebooks)
    for path in changed:
        print(f"rewrote the Setup cell of {path}")
    print(f"{len(notebooks) - len(changed)} Setup cell(s) already up to date")
    if not args.notebooks and lessons.write_setup_block(Path("CONTRIBUTING.md")):
        print("rewrote the Setup cell shown in CONTRIBUTING.md")
    return 0


def _run_set_repo(args: argparse.Namespace) -> int:
    from labutils.instructor import fork

    old = fork.read_repo(args.root)
    changed = fork.set_repo(args.url, args.root, args.branch)
    for path in changed:
        print(f"rewrote {path}")
    url, branch = fork.read_repo(args.root)
    if not changed:
        print(f"nothing to change: the course already points at {url}, branch {branch}")
        return 0
    print(
        f"{len(changed)} files now point at {url}, branch {branch}. Next:\n"
        f"1. commit them and push to branch {branch} of {url}: Colab opens the lessons and "
        "installs labutils from there;\n"
        "2. rebuild what you built before, which still names the old address: "
        "python -m labutils student notebooks/ --out _build/student, and python -m labutils "
        "render for the HTML pages."
    )
    for path in fork.stale_builds(args.root, *old):
        print(f"   still names the old address: {path}")
    return 0
