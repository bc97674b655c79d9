"""Checkers of lesson 07, "Object detection vs segmentation": boxes from the dataset's head
boxes, and the precision and recall of detections (the detector's head, its GIoU loss and AP:
:mod:`labutils.checks.lesson07_detector`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from labutils.checks.verdict import Exercise, Problem, Verdict, diagnose, judge, numbers

__all__ = ["check_head_boxes", "check_precision_recall"]

_HEAD_BOXES = Exercise(
    "Exercise 1 (head boxes)",
    "head_bbox is [y_min, x_min, y_max, x_max]; an image without a head box has zeros.",
)
_PRECISION_RECALL = Exercise(
    "Exercise 4 (precision and recall)",
    "precision divides the hits by the detections kept; recall divides them by the pets.",
)
_BOXES = numbers("(x_min, y_min, x_max, y_max) boxes")
_PAIR = numbers("two numbers, (precision, recall)", count=2)


def check_head_boxes(answer: Any, head_bbox: Any) -> Verdict:
    """Check the head boxes as xyxy, only for the images that have one.

    Exercise of lesson 07, §1 "Boxes in the data".

    Args:
        answer: (M, 4) ``(x_min, y_min, x_max, y_max)`` in 0..1, one row per image with a head
            box, in image order; ``None`` when not answered yet.
        head_bbox: (N, 4) TFDS ``head_bbox``: yxyx in 0..1, all zeros where there is no box.

    Returns:
        Whether ``answer`` is right (absolute tolerance 1e-6); prints the verdict and a hint.

    >>> check_head_boxes([[0.2, 0.1, 0.6, 0.5]], [[0.1, 0.2, 0.5, 0.6], [0, 0, 0, 0]])
    ✅ Exercise 1 (head boxes): correct.
    Verdict(passed=True)
    """
    return judge(_HEAD_BOXES, answer, _BOXES, lambda boxes: _head_boxes_problem(boxes, head_bbox))


def _head_boxes_problem(boxes: np.ndarray, head_bbox: Any) -> Problem:
    """What is wrong with ``boxes`` as the xyxy head boxes of ``head_bbox``, or None."""
    heads = np.asarray(head_bbox, dtype=np.float64).reshape(-1, 4)
    has = heads.any(axis=1)
    right = heads[has][:, [1, 0, 3, 2]]
    mistakes = [
        (heads[has], "those are still [y_min, x_min, y_max, x_max]: reorder the columns."),
        (heads[:, [1, 0, 3, 2]], "the images without a head box are still there (rows of "
         "zeros): keep only the rows that are not all zeros."),
        (np.hstack([right[:, :2], right[:, 2:] - right[:, :2]]), "that is (x, y, width, "
         "height); the exercise asks for the corners (x_min, y_min, x_max, y_max)."),
        (heads, "nothing changed: reorder the columns and drop the rows of zeros."),
    ]  # fmt: skip
    otherwise = f"expected {len(right)} boxes, (x_min, y_min, x_max, y_max) each."
    return diagnose(boxes, right, mistakes, otherwise, _same_boxes)


def _same_boxes(x: Any, y: Any) -> bool:
    """Whether two arrays of boxes have one shape and agree to 1e-6."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return x.shape == y.shape and bool(np.allclose(x, y, rtol=0.0, atol=1e-6))


def check_precision_recall(
    answer: Any, ious: Any, scores: Any, iou_threshold: float, min_score: float
) -> Verdict:
    """Check ``(precision, recall)`` of one-box-per-image detections.

    Exercise of lesson 07, §4 "How detection is scored".

    A detection counts when its score is at least ``min_score``; it is a hit when its IoU with
    the image's true box is at least ``iou_threshold``. Precision = hits / detections counted,
    recall = hits / images (one true box each).

    Args:
        answer: two numbers ``(precision, recall)``; ``None`` when not answered yet.
        ious: (N,) IoU of each image's predicted box with its true box.
        scores: (N,) the detections' confidence scores.
        iou_threshold, min_score: the exercise's thresholds.

    Returns:
        Whether both numbers are right (relative tolerance 1e-4); prints the verdict and a hint.

    >>> check_precision_recall((0.5, 0.25), [0.9, 0.2, 0.8, 0.1], [0.9, 0.8, 0.1, 0.2], 0.5, 0.5)
    ✅ Exercise 4 (precision and recall): correct.
    Verdict(passed=True)
    """
    detections = ious, scores, iou_threshold, min_score
    return judge(
        _PRECISION_RECALL, answer, _PAIR, lambda x: _precision_recall_problem(x, *detections)
    )


def _precision_recall_problem(
    value: np.ndarray, ious: Any, scores: Any, iou_threshold: float, min_score: float
) -> Problem:
    """What is wrong with ``value`` as ``(precision, recall)`` of these detections, or None."""
    ious, scores = np.asarray(ious, dtype=np.float64), np.asarray(scores, dtype=np.float64)
    kept, hit = scores >= min_score, ious >= iou_threshold
    right = np.array([(kept & hit).sum() / max(kept.sum(), 1), (kept & hit).sum() / len(ious)])
    mistakes = [
        (right[::-1], "precision and recall are swapped."),
        (np.array([hit.mean(), hit.mean()]), "every detection was counted: keep only those "
         f"scoring at least {min_score}."),
        (np.array([right[0], right[0]]), "recall divides the hits by all the true boxes (one "
         "per image), not by the detections kept."),
    ]  # fmt: skip
    otherwise = "those are not the precision and recall of these detections."
    return diagnose(value, right, mistakes, otherwise, _same_pair)


def _same_pair(x: np.ndarray, y: np.ndarray) -> bool:
    """Whether two (precision, recall) pairs agree to a relative tolerance of 1e-4."""
    return bool(np.allclose(x, y, rtol=1e-4, atol=1e-12))
