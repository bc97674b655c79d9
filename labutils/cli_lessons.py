"""The instructors' commands of ``python -m labutils``: ``student``, ``new-lesson``, ``render``,
``strip`` and ``set-repo`` (CONTRIBUTING.md, "Editing the lessons").

Each command is a thin wrapper over labutils.student, labutils.lessons or labutils.fork,
imported when it runs: ``train`` and ``evaluate`` need none of the instructor packages
(pyproject's ``instructor`` extra: nbformat, nbstripout, ...). None imports TensorFlow.
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_subcommands"]

_SET_REPO_DESCRIPTION = (
    "Rewrite labutils.REPO_URL and every address of the old repository in README.md, "
    "CONTRIBUTING.md, the lessons (Colab badges, Setup cells) and the lesson template, e.g. "
    "after forking the course."
)
_COLAB_BADGE = "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"


def add_subcommands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``student``, ``new-lesson``, ``render``, ``strip`` and ``set-repo``.

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
    _add_set_repo(subparsers)


def _add_set_repo(subparsers: argparse._SubParsersAction) -> None:
    what = "point the course at another GitHub repository (REPO_URL, badges, Setup cells)"
    set_repo = subparsers.add_parser("set-repo", help=what, description=_SET_REPO_DESCRIPTION)
    set_repo.add_argument("url", help="https://github.com/OWNER/NAME")
    set_repo.add_argument("--root", type=Path, default=Path("."), help="the checkout (default .)")
    set_repo.set_defaults(func=_run_set_repo)


def _run_student(args: argparse.Namespace) -> int:
    from labutils import student

    for path in student.write_student_edition(args.src, args.out):
        print(f"wrote {path}")
    return 0


def _run_new_lesson(args: argparse.Namespace) -> int:
    from labutils import lessons

    path = lessons.new_lesson(args.topic, args.notebooks, args.title)
    heading = lessons.read_notebook(path)["cells"][0]["source"][0]  # "# 06 · Title\n"
    print(
        f"created {path}: replace every TODO in it, then\n"
        "1. add its row to the lesson table in README.md:\n"
        f"   | {int(path.name[:2])} | [{heading.split(' · ', 1)[1].strip()}]"
        f"(notebooks/{path.name}) | TODO | {_COLAB_BADGE}({lessons.colab_url(path.name)}) |\n"
        "2. link it from the Summary of the lesson before it;\n"
        f"3. test it: pytest {path}"
    )
    return 0


def _run_render(args: argparse.Namespace) -> int:
    from labutils import lessons

    paths = args.notebooks or [Path("notebooks")]
    notebooks = [nb for p in paths for nb in (sorted(p.glob("*.ipynb")) if p.is_dir() else [p])]
    try:
        pages = lessons.render_html(notebooks, args.out, ci_values=args.ci_values)
    except RuntimeError as err:
        print(err)
        return 1
    print(f"wrote {len(pages)} pages; open {args.out / 'index.html'}")
    return 0


def _run_strip(args: argparse.Namespace) -> int:
    from labutils import lessons

    for path in args.notebooks:
        if lessons.strip_notebook(path):
            print(f"stripped {path}")
    return 0


def _run_set_repo(args: argparse.Namespace) -> int:
    from labutils import fork

    changed = fork.set_repo(args.url, args.root)
    for path in changed:
        print(f"rewrote {path}")
    print(f"{len(changed)} files now point at {args.url}" if changed else "nothing to change")
    return 0
