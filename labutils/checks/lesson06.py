"""Checkers of lesson 06, "Evaluating the model": predictions at the photo's own size,
precision from a confusion matrix, and the images the model segments worst."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from labutils import metrics
from labutils.checks import verdict
from labutils.checks.verdict import FUNCTION, Exercise, Problem, Verdict, judge, numbers

__all__ = ["check_full_size", "check_precision", "check_worst_images"]

_FULL_SIZE = Exercise(
    "Exercise 1 (predictions at full size)",
    "tf.image.resize(probs, (height, width), method='bilinear'), then argmax over the classes.",
)
_PRECISION = Exercise(
    "Exercise 2 (precision per class)",
    "precision of class c = cm[c, c] / (pixels predicted as c); predictions are columns.",
)
_WORST_IMAGES = Exercise(
    "Exercise 3 (the worst images)",
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
    ✅ Exercise 2 (precision per class): correct.
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
    return verdict.diagnose(value, right, mistakes, otherwise, _same_values)


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
    ✅ Exercise 3 (the worst images): correct.
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


#: Exercise 1's cases: (what they are, probabilities (S, S, 3), height, width).
_LOGITS = np.random.default_rng(0).normal(size=(4, 4, 3)) * 3
_FULL_SIZE_CASES = (
    ("an enlargement to 13 × 16", np.exp(_LOGITS) / np.exp(_LOGITS).sum(-1, keepdims=True), 13, 16),
    ("a photo taller than wide", np.exp(_LOGITS) / np.exp(_LOGITS).sum(-1, keepdims=True), 10, 7),
)


def check_full_size(predict_fn: Callable[[Any, int, int], Any] | None) -> Verdict:
    """Check a function ``f(probs, height, width)`` returning full-size labels.

    Exercise of lesson 06, §4 "At the photo's own resolution".

    Args:
        predict_fn: the student's function of probabilities (S, S, C) and a size, returning
            labels (height, width) (``None``: not answered).

    Returns:
        True when it matches :func:`labutils.evaluation.predict_full_size` on two sizes;
        enlarging the labels instead of the probabilities is named. Errors are reported.

    >>> from labutils import evaluation
    >>> check_full_size(evaluation.predict_full_size)
    ✅ Exercise 1 (predictions at full size): correct.
    Verdict(passed=True)
    """
    return judge(_FULL_SIZE, predict_fn, FUNCTION, _full_size_problem)


def _full_size_problem(predict_fn: Callable[[Any, int, int], Any]) -> Problem:
    """Run the student's function on every case; say what is wrong, or return None."""
    import tensorflow as tf  # here, not on top: importing the checkers must not load TensorFlow

    from labutils import evaluation

    for description, probs, height, width in _FULL_SIZE_CASES:
        probs = probs.astype(np.float32)
        try:
            got = np.asarray(predict_fn(probs, height, width))
        except Exception as error:  # the student's code: report it, don't crash the checker
            return f"for {description} it raised {verdict.describe_error(error)}."
        right = evaluation.predict_full_size(probs, height, width)
        if got.shape != right.shape:
            return f"for {description} it returned shape {got.shape}, expected {right.shape}." + (
                _full_size_shape_hint(got.shape, height, width)
            )
        if not np.array_equal(got, right):
            labels = probs.argmax(axis=-1)[..., None]
            blocky = tf.image.resize(labels, (height, width), "nearest").numpy()[..., 0]
            if np.array_equal(got, blocky):
                return (f"for {description} you enlarged the labels (nearest neighbour): "
                        "enlarge the probabilities, then take the argmax.")  # fmt: skip
            return f"for {description}, {np.mean(got != right):.0%} of the labels differ."
    return None


def _full_size_shape_hint(shape: tuple, height: int, width: int) -> str:
    """Name the usual mistake behind a wrong output shape, or return ''."""
    if shape == (height, width, 1):
        return " Drop the trailing axis: argmax over axis -1 leaves (height, width)."
    if shape == (height, width, 3):
        return " Those are probabilities: take the argmax over the classes."
    if shape[:2] == (width, height):
        return " Height and width are swapped: resize takes (height, width)."
    return ""
