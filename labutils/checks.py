"""Self-checks for the exercises: each ``check_*`` prints what is right or wrong and a hint.

A checker takes the student's answer and returns ``True`` when it is right. An answer of
``None`` (the student edition's stub) prints "not answered yet" with the hint instead of failing,
so every notebook still runs end to end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from labutils import metrics

__all__ = ["check_box_iou", "check_per_class_iou", "not_answered", "report"]


def report(exercise: str, problem: str | None, hint: str) -> bool:
    """Print the verdict on one exercise and return whether it passed.

    Args:
        exercise: the exercise's name, e.g. ``"Exercise 1 (pixel IoU)"``.
        problem: ``None`` when the answer is right, else what is wrong with it.
        hint: one sentence that helps without giving the answer away.
    """
    if problem is None:
        print(f"✅ {exercise}: correct.")
        return True
    print(f"❌ {exercise}: {problem}\n   Hint: {hint}")
    return False


def not_answered(exercise: str, hint: str) -> bool:
    """Report an exercise whose answer is still the stub's ``None``."""
    print(f"✏️ {exercise}: not answered yet — replace the None with your code.\n   Hint: {hint}")
    return False


# --- Lesson 02 (IoU) ---------------------------------------------------------------------------


def check_per_class_iou(ious: Any, y_true: Any, y_pred: Any, num_classes: int = 3) -> bool:
    """Check lesson 02's exercise 1: the IoU of every class, computed by hand.

    Args:
        ious: the student's answer, one IoU per class in class order (``None``: not answered).
        y_true: the exercise's true label mask, e.g. (H, W) int, values 0..num_classes-1.
        y_pred: the exercise's predicted label mask, same shape.
        num_classes: number of classes.

    Returns:
        True when ``ious`` matches ``metrics.iou_per_class`` (relative tolerance 1e-4).
    """
    exercise = "Exercise 1 (per-class IoU)"
    hint = "for each class c, compare the boolean masks y_true == c and y_pred == c: |P∩G| / |P∪G|."
    if ious is None:
        return not_answered(exercise, hint)
    return report(exercise, _per_class_iou_problem(ious, y_true, y_pred, num_classes), hint)


def _per_class_iou_problem(ious: Any, y_true: Any, y_pred: Any, num_classes: int) -> str | None:
    """Say what is wrong with a per-class IoU answer, or return None when it is right."""
    try:
        answer = np.asarray(ious, dtype=np.float64)
    except (TypeError, ValueError):
        return f"expected {num_classes} numbers, got {type(ious).__name__} {ious!r:.60}."
    cm = metrics.confusion_matrix(y_true, y_pred, num_classes)
    expected = metrics.iou_from_confusion(cm)
    if answer.shape != expected.shape:
        if answer.size == 1 and np.isclose(answer, np.nanmean(expected), rtol=1e-4):
            return "that is the mean IoU; the exercise asks for one IoU per class."
        return f"expected {num_classes} numbers (one per class), got shape {answer.shape}."
    if np.allclose(answer, expected, rtol=1e-4, equal_nan=True):
        return None
    with np.errstate(divide="ignore", invalid="ignore"):  # a class may be absent
        known_mistakes = _per_class_iou_mistakes(cm, expected)
    for problem, wrong in known_mistakes.items():
        if np.allclose(answer, wrong, rtol=1e-4):
            return problem
    wrong_classes = ", ".join(map(str, np.flatnonzero(~np.isclose(answer, expected, rtol=1e-4))))
    return f"wrong for class {wrong_classes}: you have {np.round(answer, 3).tolist()}."


def _per_class_iou_mistakes(cm: np.ndarray, expected: np.ndarray) -> dict[str, np.ndarray]:
    """The usual wrong answers for a confusion matrix ``cm``, keyed by what is wrong."""
    tp = np.diag(cm)
    return {
        "these are Dice values 2|P ∩ G| / (|P| + |G|); IoU divides by the union.": (
            metrics.dice_from_confusion(cm)
        ),
        "the union counts the intersection twice: use |P| + |G| − |P ∩ G|.": (
            tp / (cm.sum(axis=0) + cm.sum(axis=1))
        ),
        "you divided by the true pixels of each class (that is recall), not the union.": (
            tp / cm.sum(axis=1)
        ),
        "you divided by the predicted pixels of each class (precision), not the union.": (
            tp / cm.sum(axis=0)
        ),
        "the classes are in reverse order: entry c must be the IoU of class c.": expected[::-1],
    }


#: Lesson 02's exercise 2 cases: (what they are, box_a, box_b) as (x_min, y_min, x_max, y_max).
_BOX_CASES = (
    ("overlapping boxes", (0, 0, 10, 10), (5, 5, 15, 15)),
    ("a box inside another", (0, 0, 10, 10), (2, 2, 6, 6)),
    ("identical boxes", (3, 1, 9, 4), (3, 1, 9, 4)),
    ("boxes side by side with a gap", (0, 0, 4, 10), (6, 0, 10, 10)),
    ("boxes far apart diagonally", (0, 0, 2, 2), (5, 5, 8, 8)),
    ("boxes touching along an edge", (0, 0, 10, 10), (10, 0, 20, 10)),
)


def check_box_iou(box_iou_fn: Callable[[Any, Any], float] | None) -> bool:
    """Check lesson 02's exercise 2: a function returning the IoU of two xyxy boxes.

    Args:
        box_iou_fn: the student's function ``f(box_a, box_b) -> float`` taking two
            ``(x_min, y_min, x_max, y_max)`` tuples (``None``: not answered).

    Returns:
        True when it matches ``metrics.box_iou`` on overlapping, nested, identical, disjoint
        and touching boxes.
    """
    exercise = "Exercise 2 (box IoU)"
    hint = (
        "the intersection spans from the larger of the two minima to the smaller of the two "
        "maxima on each axis; a negative width or height means no overlap, so clamp it at 0."
    )
    if box_iou_fn is None:
        return not_answered(exercise, hint)
    if not callable(box_iou_fn):
        return report(exercise, f"expected a function, got {type(box_iou_fn).__name__}.", hint)
    return report(exercise, _box_iou_problem(box_iou_fn), hint)


def _box_iou_problem(box_iou_fn: Callable[[Any, Any], float]) -> str | None:
    """Run the student's box IoU on every case; say what is wrong, or return None."""
    for description, box_a, box_b in _BOX_CASES:
        got = box_iou_fn(box_a, box_b)
        if np.size(got) != 1 or not np.issubdtype(np.asarray(got).dtype, np.number):
            return f"for {box_a} and {box_b} it returned {got!r:.60}: expected one number."
        expected = metrics.box_iou(box_a, box_b)
        if not np.isclose(float(got), expected, atol=1e-6):
            return (
                f"for {description} {box_a} and {box_b} it returned {float(got):.4f}, "
                f"expected {expected:.4f}.{_box_iou_diagnosis(float(got), box_a, box_b)}"
            )
    return None


def _box_iou_diagnosis(got: float, box_a: tuple, box_b: tuple) -> str:
    """Name the usual mistake that gives ``got`` for these two boxes, or return ''."""
    (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = box_a, box_b
    width, height = min(ax1, bx1) - max(ax0, bx0), min(ay1, by1) - max(ay0, by0)
    area_a, area_b = (ax1 - ax0) * (ay1 - ay0), (bx1 - bx0) * (by1 - by0)
    unclamped = width * height
    plus_one = (width + 1) * (height + 1)
    plus_one_areas = (ax1 - ax0 + 1) * (ay1 - ay0 + 1) + (bx1 - bx0 + 1) * (by1 - by0 + 1)
    mistakes = {
        " Width and height were not clamped at 0: boxes apart give a negative overlap.": (
            unclamped / (area_a + area_b - unclamped)
        ),
        " The union counts the intersection twice: use area_a + area_b − intersection.": (
            max(width, 0) * max(height, 0) / (area_a + area_b)
        ),
        " That is the '+1' pixel convention; here a box from 0 to 10 is 10 wide.": (
            plus_one / (plus_one_areas - plus_one)
        ),
    }
    return next((m for m, wrong in mistakes.items() if np.isclose(got, wrong, atol=1e-6)), "")
