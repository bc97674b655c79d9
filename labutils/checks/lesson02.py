"""Checkers of lesson 02, "IoU, Dice and accuracy": per-class IoU from a confusion matrix, the
IoU of a whole dataset, and the mean IoU of a model's probabilities."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from labutils import metrics
from labutils.checks.verdict import (
    FUNCTION,
    Exercise,
    Problem,
    Verdict,
    describe_error,
    diagnose,
    judge,
    numbers,
)
from labutils.vocabulary import NUM_CLASSES

__all__ = ["check_dataset_iou", "check_mean_iou_from_probs", "check_per_class_iou"]

_PER_CLASS_IOU = Exercise(
    "Exercise 1 (per-class IoU)",
    "cm[c, c] is class c's intersection; row c holds its true pixels, column c its "
    "predicted ones, and the union counts the intersection only once.",
)
_DATASET_IOU = Exercise(
    "Exercise 2 (the IoU of a dataset)",
    "add the two images' confusion matrices, then compute the IoUs once from the sum.",
)
_MEAN_IOU_FROM_PROBS = Exercise(
    "Exercise 3 (mean IoU from probabilities)",
    "argmax over the last axis first; then, per class, intersection / union; average over the "
    "classes whose union is not empty.",
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


def check_dataset_iou(answer: Any, y_trues: list, y_preds: list) -> Verdict:
    """Check the per-class IoU of a set of images, computed from their summed confusion matrix.

    Exercise of lesson 02, §4 "Many classes: per-class IoU and mean IoU".

    Args:
        answer: one IoU per class, in class order (``None``: not answered).
        y_trues: the images' true label masks, values 0..2.
        y_preds: their predicted label masks, same shapes.

    Returns:
        True when ``answer`` is the IoU of the summed confusion matrix (relative tolerance
        1e-4); the average of per-image IoUs is named as the usual mistake.

    >>> check_dataset_iou([1.0, 2 / 3, 0.0], [[[0, 1]], [[1, 1]]], [[[0, 1]], [[1, 2]]])
    ✅ Exercise 2 (the IoU of a dataset): correct.
    Verdict(passed=True)
    """
    pairs = zip(y_trues, y_preds, strict=True)
    cms = [metrics.confusion_matrix(t, p, NUM_CLASSES) for t, p in pairs]
    right = metrics.iou_from_confusion(sum(cms))
    with np.errstate(divide="ignore", invalid="ignore"):  # a class may be absent from an image
        per_image = np.array([metrics.iou_from_confusion(cm) for cm in cms])
        mistakes = [
            (np.nanmean(per_image, axis=0), "that is the average of the per-image IoUs: every "
             "image then weighs the same, however few pixels of a class it holds."),
            (per_image[0], "that is the IoU of the first image only; add the other's pixels."),
            (metrics.dice_from_confusion(sum(cms)), "those are Dice values; IoU divides by "
             "the union."),
        ]  # fmt: skip
    otherwise = "not the IoU of each class over both images' pixels."
    kind = numbers(f"{NUM_CLASSES} numbers (one per class)", count=NUM_CLASSES)
    return judge(
        _DATASET_IOU, answer, kind, lambda x: diagnose(x, right, mistakes, otherwise, _close)
    )


def _close(x: np.ndarray, y: np.ndarray) -> bool:
    """Whether two arrays have one shape and agree to a relative tolerance of 1e-4."""
    return x.shape == np.shape(y) and bool(np.allclose(x, y, rtol=1e-4, equal_nan=True))


#: Exercise 3's cases: (what they are, true labels, logits). A class absent from both masks
#: (class 2 in the second case) has no IoU and must be left out of the mean.
_PROBS_CASES = (
    ("a perfect prediction", np.array([[0, 1, 2, 1]]), np.eye(3)[[[0, 1, 2, 1]]] * 5),
    ("no border in truth or prediction", np.array([[0, 0, 1, 1]]), np.eye(3)[[[0, 1, 1, 1]]] * 5),
    ("a batch of two images", np.array([[[0, 1]], [[2, 2]]]), np.eye(3)[[[[0, 0]], [[2, 1]]]] * 5),
)


def check_mean_iou_from_probs(mean_iou_fn: Callable[..., Any] | None) -> Verdict:
    """Check a function ``f(y_true, probs)`` that scores probabilities with the mean IoU.

    Exercise of lesson 02, §5 "From probabilities to labels, and an IoU that isn't one".

    Args:
        mean_iou_fn: the student's function of true labels ``(..., H, W)`` int and
            probabilities ``(..., H, W, 3)`` returning one number (``None``: not answered).

    Returns:
        True when it matches ``metrics.mean_iou`` on a perfect prediction, a prediction with a
        class absent from both masks, and a batch. Errors raised are reported, not re-raised.

    >>> check_mean_iou_from_probs(lambda y, p: metrics.mean_iou(y, p, num_classes=3))
    ✅ Exercise 3 (mean IoU from probabilities): correct.
    Verdict(passed=True)
    """
    return judge(_MEAN_IOU_FROM_PROBS, mean_iou_fn, FUNCTION, _mean_iou_problem)


def _mean_iou_problem(mean_iou_fn: Callable[..., Any]) -> Problem:
    """Run the student's function on every case; say what is wrong, or return None."""
    for description, y_true, logits in _PROBS_CASES:
        probs = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)  # softmax
        try:
            got = np.asarray(mean_iou_fn(y_true, probs), dtype=np.float64)
        except Exception as error:  # the student's code: report it, don't crash the checker
            return f"for {description} it raised {describe_error(error)}."
        right = metrics.mean_iou(y_true, probs, num_classes=NUM_CLASSES)
        if got.size != 1:
            return f"for {description} it returned {got.size} numbers: average them into one."
        if not np.isclose(float(got), right, rtol=1e-4):
            return f"for {description} it returned {float(got):.4f}, expected {right:.4f}." + (
                _mean_iou_diagnosis(float(got), y_true, probs)
            )
    return None


def _mean_iou_diagnosis(got: float, y_true: np.ndarray, probs: np.ndarray) -> str:
    """Name the usual mistake behind a wrong mean IoU, or return ''."""
    if np.isnan(got):
        return " A class in neither mask has IoU 0 / 0 = NaN: leave it out of the mean."
    with np.errstate(divide="ignore", invalid="ignore"):
        ious = metrics.iou_per_class(y_true, probs.argmax(axis=-1), NUM_CLASSES)
    if np.isclose(got, np.nan_to_num(ious).mean(), rtol=1e-4):
        return " A class in neither mask counted as IoU 0: leave it out of the mean instead."
    if np.isclose(got, (y_true.sum() + 1) / (y_true.size + 1), rtol=1e-4):
        return " That is the lab's iou_coeff (the mean label): take the argmax of probs first."
    return ""
