"""Checkers of lesson 07's detector and its score: the box head, the GIoU loss, COCO's AP.

The student's head is run with random weights on random features (any valid design passes:
what matters is five outputs, a box inside the image with its corners in order, a score in
[0, 1]); the loss is compared with ``1 − bbox.box_giou`` and the AP with
``detection_metrics.ap_from_curve``, which the tests check against pycocotools.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from labutils import bbox, detection_metrics
from labutils.checks.verdict import FUNCTION, Exercise, Problem, Verdict, call_student, judge

__all__ = ["GIOU_CASES", "check_average_precision", "check_box_head", "check_giou_loss"]

_HEAD = Exercise(
    "Exercise 2 (the box head)",
    "five outputs; squash each with a sigmoid, and build x_max as x_min plus a size in the "
    "room left, so that every box is valid.",
)
_GIOU_LOSS = Exercise(
    "Exercise 3 (the GIoU loss)",
    "1 − GIoU, GIoU = IoU − (area of C − area of the union) / area of C; guard every "
    "division with ops.maximum(…, 1e-7).",
)
_AP = Exercise(
    "Exercise 5 (COCO's 101-point AP)",
    "make precision monotone from the right, read it at recall 0, 0.01, …, 1 (the first "
    "point reaching each level, 0 beyond the last), and average the 101 values.",
)


def check_box_head(box_head: Callable[[Any], Any] | None, num_features: int = 32) -> Verdict:
    """Check ``box_head(features) -> (B, 5)`` with random weights on random features.

    Exercise of lesson 07, §2 "A detector trained in the lesson".

    Args:
        box_head: a function of a symbolic (B, F) tensor returning (B, 5) ``[x_min, y_min,
            x_max, y_max, score]``; ``None`` when not answered yet.
        num_features: F of the test input.

    Returns:
        Whether every output, for 256 random inputs and 3 draws of weights, is a box inside
        0..1 with its corners in order and a score in [0, 1]; prints the verdict and a hint.
    """
    return judge(_HEAD, box_head, FUNCTION, lambda fn: _head_problem(fn, num_features))


def _head_problem(box_head: Callable[[Any], Any], num_features: int) -> Problem:
    """What is wrong with the outputs of the student's head, or None."""
    import keras  # here, not on top: importing the checkers must not load TensorFlow

    try:
        features = keras.Input((num_features,))
        model = keras.Model(features, call_student(box_head, "box_head", features))
    except (ValueError, TypeError) as error:
        return f"building a model from it failed: {error}"
    if tuple(model.output_shape) != (None, 5):
        extra = " (the fifth, the score, is missing)" if model.output_shape[-1:] == (4,) else ""
        return f"the head gives {model.output_shape}, expected (None, 5){extra}."
    rng = np.random.default_rng(0)
    for _ in range(3):
        model.set_weights([rng.normal(0, 3, w.shape) for w in model.get_weights()])
        out = np.asarray(model(rng.normal(0, 1, (256, num_features)), training=False))
        if problem := _outputs_problem(out):
            return problem
    return None


def _outputs_problem(out: np.ndarray) -> str | None:
    """The first way (B, 5) head outputs are not valid boxes and scores, or None."""
    boxes, score = out[:, :4], out[:, 4]
    if not np.all(np.isfinite(out)):
        return "some outputs are NaN or infinite."
    if boxes.min() < -1e-6 or boxes.max() > 1 + 1e-6:
        return "some box coordinates fall outside 0..1: a linear output can leave the image."
    if np.any(boxes[:, 2:] < boxes[:, :2] - 1e-6):
        return ("some boxes have x_max < x_min or y_max < y_min: four corners squashed one by "
                "one are not ordered; predict a size and a position instead.")  # fmt: skip
    if score.min() < -1e-6 or score.max() > 1 + 1e-6:
        return "the score (fifth output) falls outside [0, 1]: squash it with a sigmoid."
    if np.ptp(boxes, axis=0).max() < 1e-6:
        return "the box does not depend on the features: use them."
    return None


GIOU_CASES = np.array([  # (true box, predicted box), xyxy in 0..1
    [[0.1, 0.1, 0.9, 0.9], [0.3, 0.3, 0.6, 0.7]],  # nested
    [[0.0, 0.0, 0.4, 0.4], [0.2, 0.2, 0.6, 0.6]],  # overlapping
    [[0.0, 0.0, 0.1, 0.1], [0.2, 0.0, 0.3, 0.1]],  # disjoint
    [[0.2, 0.2, 0.6, 0.6], [0.4, 0.3, 0.4, 0.5]],  # degenerate: a zero-width prediction
    [[0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5]],  # degenerate: two identical points
    [[0.1, 0.2, 0.5, 0.7], [0.1, 0.2, 0.5, 0.7]],  # identical
], "float32")  # fmt: skip
_CASE_NAMES = ("nested", "overlapping", "disjoint", "zero-width", "two points", "identical")


def check_giou_loss(giou_loss: Callable[[Any, Any], Any] | None) -> Verdict:
    """Check ``giou_loss(y_true, y_pred) -> (B,)`` against ``1 − bbox.box_giou``.

    Exercise of lesson 07, §2 "A detector trained in the lesson".

    Args:
        giou_loss: a function of (B, 4) true and (B, 4) predicted xyxy boxes (tensors),
            returning one loss per box; ``None`` when not answered yet.

    Returns:
        Whether it agrees to 1e-5 on nested, overlapping, disjoint, degenerate and identical
        boxes; prints the verdict and a hint.

    >>> check_giou_loss(lambda t, p: 1 - bbox.box_giou(np.asarray(t), np.asarray(p)))
    ✅ Exercise 3 (the GIoU loss): correct.
    Verdict(passed=True)
    """
    return judge(_GIOU_LOSS, giou_loss, FUNCTION, _giou_loss_problem)


def _giou_loss_problem(giou_loss: Callable[[Any, Any], Any]) -> Problem:
    """The first case the student's loss gets wrong, named with its likely mistake, or None."""
    import keras  # here, not on top: importing the checkers must not load TensorFlow

    truth, pred = GIOU_CASES[:, 0], GIOU_CASES[:, 1]
    try:
        got = call_student(giou_loss, "giou_loss", truth, pred)
    except ValueError as error:
        return str(error)
    got = np.asarray(keras.ops.convert_to_numpy(got), float)
    if got.shape != (len(truth),):
        return f"it returned shape {got.shape}: return one loss per box, ({len(truth)},)."
    truth, pred = truth.astype(float), pred.astype(float)
    right = 1 - np.asarray(bbox.box_giou(truth, pred))
    plain = 1 - np.array([bbox.box_iou(t, p) for t, p in zip(truth, pred, strict=True)])
    for name, value, want, iou_loss in zip(_CASE_NAMES, got, right, plain, strict=True):
        if not np.isfinite(value):
            return f"the {name} boxes give {value}: a division by zero; guard it."
        if abs(value - want) > 1e-5:
            why = {
                1 - want: "that is GIoU itself; the loss is 1 − GIoU.",
                iou_loss: "that is 1 − IoU: add the share of C that neither box covers.",
            }
            text = next((w for v, w in why.items() if abs(value - v) < 1e-5), "")
            return f"the {name} boxes give {value:.4f}, expected {want:.4f}. {text}".strip()
    return None


def check_average_precision(ap_fn: Callable[[Any, Any], float] | None) -> Verdict:
    """Check ``ap(precision, recall)``, COCO's 101-point interpolated AP of one PR list.

    Exercise of lesson 07, §4 "How detection is scored".

    Args:
        ap_fn: a function of (D,) precisions and (D,) recalls after each detection (highest
            score first), returning AP; ``None`` when not answered yet.

    Returns:
        Whether it agrees with ``detection_metrics.ap_from_curve`` to 1e-9 on lists with
        dips, duplicates and a recall that stops short of 1; prints the verdict and a hint.

    >>> check_average_precision(detection_metrics.ap_from_curve)
    ✅ Exercise 5 (COCO's 101-point AP): correct.
    Verdict(passed=True)
    """
    return judge(_AP, ap_fn, FUNCTION, _ap_problem)


_HIT_LISTS = (  # (hits in score order, number of true objects)
    ([1, 0, 1, 1, 0, 0, 1, 0], 5),  # recall stops at 0.8
    ([0, 1, 1, 0, 1], 3),  # a miss first
    ([1, 1, 0, 0, 0, 1], 3),  # a late hit lifts the envelope
)


def _ap_problem(ap_fn: Callable[[Any, Any], float]) -> Problem:
    """What is wrong with the student's AP on the first list it gets wrong, or None."""
    for hits, num_true in _HIT_LISTS:
        hits = np.array(hits, bool)
        tp, fp = np.cumsum(hits), np.cumsum(~hits)
        precision, recall = tp / (tp + fp), tp / num_true
        right = detection_metrics.ap_from_curve(precision, recall)
        try:
            got = float(call_student(ap_fn, "ap", precision.copy(), recall.copy()))
        except (ValueError, TypeError) as error:
            return str(error)
        if not abs(got - right) <= 1e-9:  # NaN fails too
            mistake = _ap_mistake(got, precision, recall)
            return (f"for hits {hits.astype(int).tolist()} of {num_true} objects you gave "
                    f"{got:.4f}, expected {right:.4f}. {mistake}").strip()  # fmt: skip
    return None


def _ap_mistake(got: float, precision: np.ndarray, recall: np.ndarray) -> str:
    """Name the AP flavour that gives ``got``, if it is a usual one."""
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.diff(np.concatenate([[0.0], recall]))
    known = {
        "no envelope: each precision must be the best at this or a higher recall.":
            _read_at(precision, recall, 101),
        "that is VOC 2007's 11-point AP (recall 0, 0.1, …, 1); COCO reads 101 levels.":
            _read_at(envelope, recall, 11),
        "that is the area under the envelope (VOC 2010's all-point AP); COCO samples 101 "
        "recall levels.": float(np.sum(steps * envelope)),
        "that is the mean of the precisions: read them at fixed recall levels.":
            float(precision.mean()),
    }  # fmt: skip
    return next((text for text, value in known.items() if abs(got - value) < 1e-9), "")


def _read_at(values: np.ndarray, recall: np.ndarray, levels: int) -> float:
    """Mean of ``values`` read at ``levels`` evenly spaced recalls (first point reaching each)."""
    at = np.searchsorted(recall, np.linspace(0, 1, levels), side="left")
    return float(np.mean(np.where(at < len(values), values[np.minimum(at, len(values) - 1)], 0)))
