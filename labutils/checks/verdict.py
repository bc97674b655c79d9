"""What every checker shares: the verdict, the one path from an answer to it, small helpers.

A lesson's module declares each of its exercises once, as an :class:`Exercise` (its name and
hint); a checker calls :func:`judge` with it, the student's answer, the :class:`Kind` of answer
it wants and a function saying what is wrong. ``judge`` answers the stub's ``None`` with "not
answered yet" and an answer of the wrong kind with "expected …, got …", so no checker repeats
that preamble.

A test run sets ``SEGLAB_STRICT_CHECKS=1`` (conftest.py): then a checker that finds a wrong
answer in a notebook raises :class:`WrongAnswer` after printing its verdict, so a lesson whose
solution fails its own checker fails its test. "Not answered yet" never raises, so the student
edition still runs end to end.

>>> judge(Exercise("Exercise 1 (a count)", "count the pet pixels"), "two", NUMBER, lambda n: None)
❌ Exercise 1 (a count): expected one number, got 'two'.
   Hint: count the pet pixels
Verdict(passed=False)
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from typing import Any, NamedTuple, TypeAlias

import numpy as np

__all__ = [
    "FUNCTION",
    "Exercise",
    "NUMBER",
    "SHAPE",
    "Kind",
    "Problem",
    "STRICT_ENV",
    "Verdict",
    "WrongAnswer",
    "judge",
    "not_answered",
    "numbers",
    "report",
    "as_number",
    "call_student",
    "describe_error",
    "diagnose",
    "is_close",
]

#: What a checker finds: None when the answer is right, else what is wrong, alone or with a
#: hint of its own (``(problem, hint)``) that replaces the exercise's hint.
Problem: TypeAlias = str | tuple[str, str] | None
#: The environment variable that makes checkers in a notebook raise on a wrong answer.
STRICT_ENV = "SEGLAB_STRICT_CHECKS"


class WrongAnswer(AssertionError):
    """A checker found a wrong answer in a notebook run with ``SEGLAB_STRICT_CHECKS=1``.

    Raised by :func:`report` in a test run, where the lessons' solutions are the reference: a
    wrong one is a bug in the lesson. Used by every checker of lessons 01 to 07.
    """


class Verdict:
    """A checker's result: true when the answer is right.

    The verdict is printed when it is made, so a notebook cell ending in a check shows the
    message once, not an extra ``True``/``False``. Used by every "Check your understanding"
    exercise of lessons 01 to 07.

    >>> bool(Verdict(True)), Verdict(False)
    (True, Verdict(passed=False))
    """

    def __init__(self, passed: bool) -> None:
        self.passed = passed

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"Verdict(passed={self.passed})"

    def _ipython_display_(self) -> None:
        """Show nothing more in Jupyter: the message was already printed."""


def report(exercise: str, problem: str | None, hint: str) -> Verdict:
    """Print the verdict on one exercise and return it (true when it passed).

    Used by every checker of lessons 01 to 07, and inline in a new lesson's template.

    Args:
        exercise: the exercise's name, e.g. ``"Exercise 1 (pixel IoU)"``.
        problem: ``None`` when the answer is right, else what is wrong with it.
        hint: one sentence that helps without giving the answer away.

    Returns:
        The verdict, true when ``problem`` is None.

    Raises:
        WrongAnswer: ``problem`` is not None in a notebook run with ``SEGLAB_STRICT_CHECKS=1``.

    >>> report("Exercise 1 (pixel IoU)", None, "divide by the union")
    ✅ Exercise 1 (pixel IoU): correct.
    Verdict(passed=True)
    """
    if problem is None:
        print(f"✅ {exercise}: correct.")
        return Verdict(True)
    print(f"❌ {exercise}: {problem}\n   Hint: {hint}")
    if _is_strict():
        raise WrongAnswer(f"{exercise}: {problem} (a solution must pass its own checker)")
    return Verdict(False)


def _is_strict() -> bool:
    """Whether a wrong answer raises: ``SEGLAB_STRICT_CHECKS=1`` and the code runs in a notebook.

    Only notebooks (an IPython kernel) raise, so doctests and unit tests of the checkers,
    which print wrong answers' verdicts on purpose, run the same under a test run.
    """
    ipython = sys.modules.get("IPython")
    in_notebook = ipython is not None and ipython.get_ipython() is not None
    return in_notebook and os.environ.get(STRICT_ENV) == "1"


def not_answered(exercise: str, hint: str) -> Verdict:
    """Report an exercise whose answer is still the stub's ``None`` (a false verdict).

    Used by every checker of lessons 01 to 07, and inline in a new lesson's template.

    >>> not_answered("Exercise 1 (pixel IoU)", "divide by the union")
    ✏️ Exercise 1 (pixel IoU): not answered yet — replace the None with your code.
       Hint: divide by the union
    Verdict(passed=False)
    """
    print(f"✏️ {exercise}: not answered yet — replace the None with your code.\n   Hint: {hint}")
    return Verdict(False)


class Exercise(NamedTuple):
    """An exercise as its checker reports it: the name printed before the verdict, and the hint.

    Used by every checker of lessons 01 to 07: each lesson's module declares its exercises once
    and passes them to :func:`judge`.

    >>> Exercise("Exercise 2 (box IoU)", "clamp the overlap at 0").name
    'Exercise 2 (box IoU)'
    """

    name: str  #: e.g. ``"Exercise 2 (box IoU)"``
    hint: str  #: one sentence that helps without giving the answer away


class Kind(NamedTuple):
    """A kind of answer: how messages name it, and how to read an answer as one.

    Used by the checkers of lessons 01 to 07, through :func:`judge`.

    ``read(answer)`` returns the answer in the form the checker works with, or ``None`` when
    the answer is not of this kind.
    """

    what: str
    read: Callable[[Any], Any]


def judge(
    exercise: Exercise, answer: Any, kind: Kind | None, problem: Callable[[Any], Problem]
) -> Verdict:
    """Print and return the verdict on one answer: the path every checker takes.

    Used by every checker of lessons 01 to 07; a new checker calls it too.

    Args:
        exercise: the exercise, declared once in its lesson's module: its name, e.g.
            ``"Exercise 2 (box IoU)"``, and its hint, printed with any problem.
        answer: the student's answer; ``None`` is "not answered yet".
        kind: the kind of answer expected (``None``: any); an answer it cannot read gets
            "expected <kind.what>, got <the answer>".
        problem: what is wrong with the answer as ``kind`` read it (see :data:`Problem`).

    Returns:
        The verdict, true when ``problem`` found nothing wrong.
    """
    name, hint = exercise
    if answer is None:
        return not_answered(name, hint)
    value = answer if kind is None else kind.read(answer)
    if value is None:
        return report(name, f"expected {kind.what}, got {_shown(answer)}.", hint)
    found = problem(value)
    return report(name, *found) if isinstance(found, tuple) else report(name, found, hint)


def _shown(answer: Any) -> str:
    """A short description of a wrong answer: its shape when it is an array, else its repr."""
    shape = getattr(answer, "shape", None)
    if shape is not None and len(shape) > 0:
        return f"{type(answer).__name__} of shape {tuple(shape)}"
    return f"{answer!r:.60}"


def as_number(answer: Any) -> float | None:
    """Return an answer that is one real number as a float, else ``None``.

    Used by ``labutils.checks.lesson05`` too.
    """
    value = np.asarray(answer)
    if value.size != 1 or not (np.issubdtype(value.dtype, np.number) or value.dtype == bool):
        return None
    return float(value.reshape(()))


def _as_shape(answer: Any) -> tuple | None:
    """Return an answer that is a sequence of integers (or None entries) as a tuple, else None."""
    try:
        entries = tuple(answer)
    except TypeError:
        return None
    if not all(e is None or isinstance(e, (int, np.integer)) for e in entries):
        return None
    return tuple(None if e is None else int(e) for e in entries)


def numbers(what: str, count: int | None = None) -> Kind:
    """The kind "numbers": a float64 array, flattened to ``count`` values when ``count`` is given.

    Used by the checkers of lessons 01, 02, 06 and 07 (boxes, IoUs, precisions).

    >>> numbers("two numbers", count=2).read([[0.5], [1]])
    array([0.5, 1. ])
    """

    def read(answer: Any) -> np.ndarray | None:
        try:
            values = np.asarray(answer, dtype=np.float64)
        except (TypeError, ValueError):
            return None
        if count is None:
            return values
        return values.ravel() if values.size == count else None

    return Kind(what, read)


NUMBER = Kind("one number", as_number)
SHAPE = Kind("a tuple of integers", _as_shape)
FUNCTION = Kind("a function", lambda answer: answer if callable(answer) else None)


def is_close(x: float, y: float) -> bool:
    """Whether two numbers agree to a relative tolerance of 1e-4 (float32 versus float64 sums).

    Used by ``labutils.checks.lesson01`` and ``labutils.checks.lesson03`` too.
    """
    return bool(np.isclose(x, y, rtol=1e-4, atol=0.0))


def diagnose(
    answer: Any, right: Any, mistakes: list[tuple[Any, str]], otherwise: str, same: Any
) -> str | None:
    """Return None for a right answer, else the text of the first mistake it matches.

    Used by ``labutils.checks.lesson01``, ``labutils.checks.lesson02``,
    ``labutils.checks.lesson03``, ``labutils.checks.lesson04_shapes``, ``labutils.checks.lesson06``
    and ``labutils.checks.lesson07`` too.

    ``mistakes`` pairs the value a known mistake produces with its explanation; ``otherwise``
    is returned when none matches; ``same(x, y)`` decides whether two answers are equal.

    >>> diagnose(3, 4, [(3, "off by one")], "wrong", lambda x, y: x == y)
    'off by one'
    """
    if same(answer, right):
        return None
    return next((text for value, text in mistakes if same(answer, value)), otherwise)


def describe_error(error: Exception) -> str:
    """One line naming an exception the student's code raised (TensorFlow's can be long).

    Used by ``labutils.checks.lesson02``, ``labutils.checks.lesson03`` and
    ``labutils.checks.lesson06`` too.

    >>> describe_error(ValueError("{{node Resize}} bad size [Op:ResizeBilinear]\\nmore"))
    'ValueError: bad size'
    """
    lines = str(error).strip().splitlines()
    message = lines[0] if lines else ""
    message = re.sub(r"^\{\{[^}]*\}\}\s*|\s*\[Op:\w+\]$", "", message)[:200]  # TF's node names
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def call_student(fn: Callable[..., Any], name: str, *args: Any, **kwargs: Any) -> Any:
    """Call a student's function; a raised error becomes a one-line ValueError.

    Used by ``labutils.checks.lesson04_unet``, ``labutils.checks.lesson05_augment``,
    ``labutils.checks.lesson05_fit``, ``labutils.checks.lesson05_losses``,
    ``labutils.checks.lesson07_detector``, ``labutils.checks.lesson08`` and
    ``labutils.checks.lesson09`` too.

    The ValueError's ``detail`` holds the error's whole message, for a checker to diagnose.
    """
    try:
        return fn(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 – any error of the student's code is reported
        problem = ValueError(f"your {name} raised {describe_error(error)}")
        problem.detail = str(error)
        raise problem from None
