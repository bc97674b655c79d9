"""Checkers of lesson 02, "IoU, Dice and accuracy": per-class IoU, and the IoU of two boxes."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from labutils import bbox, metrics
from labutils.checks.verdict import (
    FUNCTION,
    Exercise,
    Problem,
    Verdict,
    _describe_error,
    judge,
    numbers,
)
from labutils.vocabulary import NUM_CLASSES

__all__ = ["check_box_iou", "check_per_class_iou"]

_PER_CLASS_IOU = Exercise(
    "Exercise 1 (per-class IoU)",
    "cm[c, c] is class c's intersection; row c holds its true pixels, column c its "
    "predicted ones, and the union counts the intersection only once.",
)
_BOX_IOU = Exercise(
    "Exercise 2 (box IoU)",
    "the intersection spans from the larger of the two minima to the smaller of the two "
    "maxima on each axis; a negative width or height means no overlap, so clamp it at 0; "
    "two zero-area boxes have a union of 0 and IoU 0.",
)


def check_per_class_iou(
    ious: Any, y_true: Any, y_pred: Any, num_classes: int = NUM_CLASSES
) -> Verdict:
    """Check the IoU of every class, computed from the confusion matrix cm.

    Exercise of lesson 02, §4 "Many classes: per-class IoU and mean IoU".

    Args:
        ious: the student's answer, one IoU per class in class order (``None``: not answered).
        y_true: the exercise's true label mask, e.g. (H, W) int, values 0..num_classes-1.
        y_pred: the exercise's predicted label mask, same shape.
        num_classes: number of classes.

    Returns:
        True when ``ious`` matches ``metrics.iou_per_class`` (relative tolerance 1e-4); prints
        the verdict and a hint.

    >>> check_per_class_iou([1.0, 0.5, 0.0], [[0, 1, 1, 2]], [[0, 1, 2, 1]])  # IoUs 1, 1/3, 0
    ❌ Exercise 1 (per-class IoU): these are Dice values 2|P ∩ G| / (|P| + |G|); IoU divides by
       the union.
       Hint: cm[c, c] is class c's intersection; row c holds its true pixels, column c its
       predicted ones, and the union counts the intersection only once.
    Verdict(passed=False)
    """
    kind = numbers(f"{num_classes} numbers (one per class)")
    return judge(
        _PER_CLASS_IOU, ious, kind, lambda x: _per_class_iou_problem(x, y_true, y_pred, num_classes)
    )


def _per_class_iou_problem(
    answer: np.ndarray, y_true: Any, y_pred: Any, num_classes: int
) -> Problem:
    """Say what is wrong with a per-class IoU answer, or return None when it is right."""
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
    ("a zero-width box (a line) across another", (4, 0, 4, 10), (0, 0, 10, 10)),
    ("a zero-area box (a point) inside another", (0, 0, 10, 10), (5, 5, 5, 5)),
    ("two identical zero-area boxes (their union is 0)", (2, 3, 2, 8), (2, 3, 2, 8)),
)


def check_box_iou(box_iou_fn: Callable[[Any, Any], float] | None) -> Verdict:
    """Check a function returning the IoU of two xyxy boxes.

    Exercise of lesson 02, §9 "Box IoU for object detection".

    Args:
        box_iou_fn: the student's function ``f(box_a, box_b) -> float`` taking two
            ``(x_min, y_min, x_max, y_max)`` tuples (``None``: not answered).

    Returns:
        True when it matches ``bbox.box_iou`` on overlapping, nested, identical, disjoint
        and touching boxes, and on zero-area boxes (IoU 0, also when the union is 0). A function
        that raises gets a message naming the boxes and the error, not a traceback.

    >>> check_box_iou(bbox.box_iou)
    ✅ Exercise 2 (box IoU): correct.
    Verdict(passed=True)
    """
    return judge(_BOX_IOU, box_iou_fn, FUNCTION, _box_iou_problem)


def _box_iou_problem(box_iou_fn: Callable[[Any, Any], float]) -> Problem:
    """Run the student's box IoU on every case; say what is wrong, or return None."""
    for description, box_a, box_b in _BOX_CASES:
        try:
            got = box_iou_fn(box_a, box_b)
        except Exception as error:  # the student's code: report it, don't crash the checker
            return (
                f"for {description} {box_a} and {box_b} it raised "
                f"{_describe_error(error)}.{_box_iou_raise_diagnosis(error, box_a, box_b)}"
            )
        if np.size(got) != 1 or not np.issubdtype(np.asarray(got).dtype, np.number):
            return f"for {box_a} and {box_b} it returned {got!r:.60}: expected one number."
        expected = bbox.box_iou(box_a, box_b)
        if not np.isclose(float(got), expected, atol=1e-6):
            return (
                f"for {description} {box_a} and {box_b} it returned {float(got):.4f}, "
                f"expected {expected:.4f}.{_box_iou_diagnosis(float(got), box_a, box_b)}"
            )
    return None


def _zero_union(box_a: tuple, box_b: tuple) -> bool:
    """Whether two boxes have a union of zero area (both have zero area)."""
    return all((x1 - x0) * (y1 - y0) == 0 for x0, y0, x1, y1 in (box_a, box_b))


def _box_iou_raise_diagnosis(error: Exception, box_a: tuple, box_b: tuple) -> str:
    """Explain an exception raised by the student's box IoU, when it is the usual one."""
    if isinstance(error, ZeroDivisionError) and _zero_union(box_a, box_b):
        return " Both boxes have zero area, so the union is 0: return 0 for such a pair."
    return ""


def _ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, NaN (which matches no answer) when the denominator is 0."""
    return numerator / denominator if denominator else math.nan


def _box_iou_diagnosis(got: float, box_a: tuple, box_b: tuple) -> str:
    """Name the usual mistake that gives ``got`` for these two boxes, or return ''."""
    if math.isnan(got) and _zero_union(box_a, box_b):
        return " Both boxes have zero area, so the union is 0 and 0 / 0 is NaN: return 0 then."
    (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = box_a, box_b
    width, height = min(ax1, bx1) - max(ax0, bx0), min(ay1, by1) - max(ay0, by0)
    area_a, area_b = (ax1 - ax0) * (ay1 - ay0), (bx1 - bx0) * (by1 - by0)
    unclamped = width * height
    plus_one = (width + 1) * (height + 1)
    plus_one_areas = (ax1 - ax0 + 1) * (ay1 - ay0 + 1) + (bx1 - bx0 + 1) * (by1 - by0 + 1)
    mistakes = {
        " Width and height were not clamped at 0: boxes apart give a negative overlap.": (
            _ratio(unclamped, area_a + area_b - unclamped)
        ),
        " The union counts the intersection twice: use area_a + area_b − intersection.": (
            _ratio(max(width, 0) * max(height, 0), area_a + area_b)
        ),
        " That is the '+1' pixel convention; here a box from 0 to 10 is 10 wide.": (
            _ratio(plus_one, plus_one_areas - plus_one)
        ),
    }
    return next((m for m, wrong in mistakes.items() if np.isclose(got, wrong, atol=1e-6)), "")
