"""The command line: ``python -m labutils COMMAND`` (see ``--help`` of each).

- ``train`` fits the lab's recommended U-Net (labutils.cli.train); ``evaluate`` scores a saved
  one and prints JSON (labutils.cli.evaluate);
- ``student``, ``new-lesson``, ``render``, ``strip`` and ``set-repo`` are the instructors'
  commands (labutils.cli.lessons, CONTRIBUTING.md).

Progress goes to stderr, results to stdout and files. Mistakes (bad arguments, a missing or
incompatible model, an empty split) end with one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import os
import sys

from labutils.cli import evaluate as cli_evaluate
from labutils.cli import lessons as cli_lessons
from labutils.cli import train as cli_train

__all__ = ["build_parser", "main"]

_TENSORFLOW_COMMANDS = ("train", "evaluate")


def build_parser() -> argparse.ArgumentParser:
    """Return the parser; each subcommand sets ``func``, the function that runs it.

    Used in lesson 05, §8 "Fitting it into a few minutes on a CPU (optional)" and
    lesson 06, §2 "One confusion matrix, every score" (``train`` and ``evaluate``).

    Returns:
        An ``ArgumentParser`` with the subcommands ``train`` and ``evaluate``, and the
        instructors' ``student``, ``new-lesson``, ``render``, ``strip`` and ``set-repo``.
    """
    parser = argparse.ArgumentParser(prog="python -m labutils", description=__doc__.split("\n")[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for commands in (cli_train, cli_evaluate, cli_lessons):
        commands.add_subcommands(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line.

    Used in lesson 05, §8 "Fitting it into a few minutes on a CPU (optional)" and
    lesson 06, §2 "One confusion matrix, every score" (``train`` and ``evaluate``).

    Args:
        argv: the arguments after ``python -m labutils`` (``None``: ``sys.argv[1:]``).

    Returns:
        The exit code: 0 on success, 1 on a reported error (argparse exits with 2 itself).
    """
    args = build_parser().parse_args(argv)
    if args.command in _TENSORFLOW_COMMANDS:  # before anything imports TensorFlow
        from labutils import env

        env.quiet_tensorflow()  # silences its C++ start-up lines unless TF_CPP_MIN_LOG_LEVEL is set
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        return args.func(args) or 0
    except (ValueError, FileNotFoundError, RuntimeError) as error:
        print("error: " + " ".join(str(error).split()), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
