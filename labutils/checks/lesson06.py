"""Checkers of lesson 06, "Evaluating the model": precision from a confusion matrix, and the
images the model segments worst."""

from __future__ import annotations

from typing import Any

import numpy as np

from labutils import metrics
from labutils.checks.verdict import Exercise, Problem, Verdict, _diagnose, judge, numbers

__all__ = ["check_precision", "check_worst_images"]

_PRECISION = Exercise(
    "Exercise 1 (precision per class)",
    "precision of class c = cm[c, c] / (pixels predicted as c); predictions are columns.",
)
_WORST_IMAGES = Exercise(
    "Exercise 2 (the worst images)",
    "np.argsort(values) returns the indices that sort the values from the lowest up.",
)


def check_precision(answer: Any, cm: Any) -> Verdict:
    """Check the precision of every class, computed from a confusion matrix.

    Exercise of lesson 06, §5 "Which class is taken for which".

    Args:
        answer: (C,) one precision per class, in class order; ``None`` when not answered yet.
        cm: (C, C) pixel counts, rows = true class, columns = predicted class.

    Returns:
        Whether ``answer`` is ``cm[c, c] / cm[:, c].sum()`` for every class c (relative
        tolerance 1e-4); prints the verdict and a hint.

    >>> check_precision([0.8, 0.9], [[8, 1], [2, 9]])
    ✅ Exercise 1 (precision per class): correct.
    Verdict(passed=True)
    """
    kind = numbers(f"{len(cm)} numbers")
    return judge(_PRECISION, answer, kind, lambda value: _precision_problem(value, cm))


def _precision_problem(value: np.ndarray, cm: Any) -> Problem:
    """What is wrong with ``value`` as the per-class precision of the matrix ``cm``, or None."""
    counts = np.asarray(cm, dtype=np.float64)
    tp = np.diag(counts)
    with np.errstate(divide="ignore", invalid="ignore"):  # a class may never be predicted
        right = tp / counts.sum(axis=0)
        mistakes = [
            (tp / counts.sum(axis=1), "that is the recall of each class: you divided by the "
             "row sums, the true pixels; precision divides by the predicted pixels."),
            (metrics.iou_from_confusion(counts), "that is the IoU of each class; precision "
             "divides by the predicted pixels only, not by the union."),
            (100 * right, "those are percentages; give fractions between 0 and 1."),
            (tp / counts.sum(), "you divided by all pixels; precision divides by the pixels "
             "predicted as that class."),
        ]  # fmt: skip
    otherwise = f"expected {len(tp)} values, one per class: those are not the precisions."
    return _diagnose(value, right, mistakes, otherwise, _same_values)


def _same_values(x: np.ndarray, y: Any) -> bool:
    """Whether two arrays have one shape and agree to a relative tolerance of 1e-4."""
    y = np.asarray(y, dtype=np.float64)
    return x.shape == y.shape and bool(np.allclose(x, y, rtol=1e-4, atol=0.0, equal_nan=True))


def check_worst_images(answer: Any, ious: Any, k: int = 5) -> Verdict:
    """Check the indices of the k images with the lowest IoU, worst first.

    Exercise of lesson 06, §6 "Image by image".

    Args:
        answer: k image indices (array or list of integers); ``None`` when not answered yet.
        ious: (N,) one IoU per image.
        k: how many images the exercise asks for.

    Returns:
        Whether ``answer`` holds k distinct indices whose IoUs are the k lowest, in increasing
        order (any order among equal IoUs); prints the verdict and a hint.

    >>> check_worst_images([2, 0], [0.5, 0.9, 0.1], k=2)
    ✅ Exercise 2 (the worst images): correct.
    Verdict(passed=True)
    """
    return judge(_WORST_IMAGES, answer, None, lambda x: _worst_images_problem(x, ious, k))


def _worst_images_problem(answer: Any, ious: Any, k: int) -> Problem:
    """Say what is wrong with a worst-k answer, or return None when it is right."""
    value, scores = np.asarray(answer), np.asarray(ious, dtype=np.float64)
    lowest = np.sort(scores)[:k]
    if value.shape != (k,):
        return f"expected {k} image indices, got shape {value.shape}."
    if not np.issubdtype(value.dtype, np.integer):
        if np.allclose(value, lowest):
            return "those are the IoU values; the exercise asks for the images' indices."
        return f"expected integer image indices, got {value.dtype} values."
    if value.min() < 0 or value.max() >= len(scores) or len(set(value.tolist())) < k:
        return f"expected {k} different indices between 0 and {len(scores) - 1}."
    got = scores[value]
    if np.array_equal(got, lowest):
        return None
    if np.array_equal(got, np.sort(scores)[::-1][:k]):
        return "those are the best images: argsort sorts from the lowest value up."
    if np.array_equal(np.sort(got), lowest):
        return "the right images, but not worst first: order them by increasing IoU."
    if value.min() >= 1 and np.array_equal(scores[value - 1], lowest):
        return "Python counts from 0: your indices are one too high."
    return f"image {value[got > lowest[-1]][0]} is not among the {k} worst."
