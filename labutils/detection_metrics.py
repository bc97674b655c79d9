"""How detection is scored: matching detections to true boxes, precision, recall and AP.

The functions take, for N images, N lists of true boxes, N lists of predicted boxes and N lists
of their scores (an ``(N, 4)`` array means one box per image), xyxy as in :mod:`labutils.bbox`.
They follow COCO's reference implementation (``pycocotools``), which the tests check them
against. Taught in lesson 07, §4 "How detection is scored".
"""

from __future__ import annotations

import numpy as np

from labutils.bbox import as_boxes, box_iou

__all__ = [
    "COCO_IOU_THRESHOLDS",
    "average_precision",
    "coco_average_precision",
    "match_detections",
    "precision_recall",
    "precision_recall_curve",
]

#: COCO's IoU thresholds, 0.50, 0.55, ..., 0.95 (computed exactly as pycocotools does).
COCO_IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10, endpoint=True)
#: COCO's 101 recall levels 0, 0.01, ..., 1 at which precision is read off the curve.
_RECALL_LEVELS = np.linspace(0.0, 1.0, 101, endpoint=True)


def _per_image(boxes: object, name: str, width: int) -> list[np.ndarray]:
    """Boxes (width 4) or scores (width 0) per image: a list of (K_i, 4) / (K_i,) arrays."""
    if isinstance(boxes, np.ndarray) and boxes.ndim == (2 if width else 1):
        boxes = list(boxes[:, None])  # one per image
    out = []
    for i, item in enumerate(boxes):
        array = np.asarray(item, dtype=np.float64)
        array = array.reshape(-1, width) if width else array.reshape(-1)
        out.append(as_boxes(array, f"{name}[{i}]") if width and array.size else array)
    return out


def _check_inputs(
    true_boxes: object, pred_boxes: object, scores: object
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Boxes and scores per image, checked to line up (see the module docstring)."""
    truth = _per_image(true_boxes, "true_boxes", 4)
    preds, conf = _per_image(pred_boxes, "pred_boxes", 4), _per_image(scores, "scores", 0)
    if not len(truth) == len(preds) == len(conf):
        raise ValueError(
            f"expected one entry per image in true_boxes, pred_boxes and scores, got "
            f"{len(truth)}, {len(preds)} and {len(conf)}."
        )
    for i, (p, s) in enumerate(zip(preds, conf, strict=True)):
        if len(p) != len(s):
            raise ValueError(f"image {i}: {len(p)} predicted boxes but {len(s)} scores.")
    return truth, preds, conf


def match_detections(
    true_boxes: object, pred_boxes: object, scores: object, iou_threshold: float = 0.5,
    max_detections: int = 100,
) -> tuple[np.ndarray, np.ndarray, int]:  # fmt: skip
    """Mark each detection a true or a false positive, as COCO does.

    In each image the detections are taken from the highest score down (at most
    ``max_detections``); each is matched to the unmatched true box it overlaps most, if that
    IoU is at least ``iou_threshold``, and is then a true positive; otherwise it is a false
    positive. A true box is matched at most once, so a duplicate detection is a false positive.
    Taught in lesson 07, §4 "How detection is scored" (behind every score there).

    >>> match_detections([[0, 0, 2, 2.]], [[[0, 0, 2, 2], [0, 0, 2, 1.9]]], [[0.9, 0.8]])
    (array([0.9, 0.8]), array([ True, False]), 1)

    Args:
        true_boxes: N sequences of (G_i, 4) xyxy boxes (or an (N, 4) array: one per image).
        pred_boxes: N sequences of (D_i, 4) boxes (or (N, 4)).
        scores: N sequences of D_i confidences (or (N,)).
        iou_threshold: the least IoU of a hit, in (0, 1].
        max_detections: detections kept per image, the highest scores first.

    Returns:
        ``scores`` (D,) float64 and ``is_hit`` (D,) bool of all kept detections, sorted by
        decreasing score (ties keep image order), and the number of true boxes.

    Raises:
        ValueError: inputs that do not line up, bad boxes, or a threshold outside (0, 1].
    """
    if not 0 < iou_threshold <= 1:
        raise ValueError(f"iou_threshold must lie in (0, 1], got {iou_threshold}.")
    truth, preds, conf = _check_inputs(true_boxes, pred_boxes, scores)
    threshold = min(iou_threshold, 1 - 1e-10)  # as pycocotools: an IoU of 1 - eps still hits
    all_scores, all_hits = [], []
    for gt, dt, sc in zip(truth, preds, conf, strict=True):
        order = np.argsort(-sc, kind="mergesort")[:max_detections]
        hits = np.zeros(len(order), bool)
        if len(gt) and len(order):
            ious = np.atleast_2d(box_iou(dt[order], gt)).reshape(len(order), len(gt))
            taken = np.zeros(len(gt), bool)
            for d in range(len(order)):
                candidates = np.where(~taken & (ious[d] >= threshold), ious[d], -1.0)
                if candidates.max() >= 0:  # the last of equal best IoUs, as pycocotools
                    best = len(gt) - 1 - int(np.argmax(candidates[::-1]))
                    taken[best], hits[d] = True, True
        all_scores.append(sc[order])
        all_hits.append(hits)
    flat_scores, flat_hits = np.concatenate(all_scores), np.concatenate(all_hits)
    order = np.argsort(-flat_scores, kind="mergesort")
    return flat_scores[order], flat_hits[order], sum(len(gt) for gt in truth)


def precision_recall(
    true_boxes: object, pred_boxes: object, scores: object, iou_threshold: float = 0.5,
    min_score: float = 0.0,
) -> tuple[float, float]:  # fmt: skip
    """Precision and recall of the detections scoring at least ``min_score``.

    Precision = hits / detections kept; recall = hits / true boxes.
    Taught in lesson 07, §4 "How detection is scored".

    >>> precision_recall(np.array([[0, 0, 2, 2], [0, 0, 2, 2.]]),
    ...                  np.array([[0, 0, 2, 2], [1, 1, 3, 3.]]), np.array([0.9, 0.8]))
    (0.5, 0.5)

    Args and Raises: as :func:`match_detections`.

    Returns:
        ``(precision, recall)`` floats in [0, 1] (precision is NaN with no detection kept).
    """
    kept_scores, hits, num_true = match_detections(true_boxes, pred_boxes, scores, iou_threshold)
    hits = hits[kept_scores >= min_score]
    precision = hits.mean() if hits.size else float("nan")
    return float(precision), float(hits.sum() / num_true) if num_true else float("nan")


def precision_recall_curve(
    true_boxes: object, pred_boxes: object, scores: object, iou_threshold: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision and recall after each detection, from the highest score down.

    Taught in lesson 07, §4 "How detection is scored".

    >>> precision_recall_curve([[0, 0, 2, 2.]], [[0, 0, 2, 2.]], [0.9])
    (array([1.]), array([1.]), array([0.9]))

    Args and Raises: as :func:`match_detections`.

    Returns:
        ``precision`` (D,), ``recall`` (D,) float64, and the score (D,) at which each point is
        reached (keep detections scoring at least that much).

    Raises:
        ValueError: as :func:`match_detections`, or there is no true box (recall undefined).
    """
    sorted_scores, hits, num_true = match_detections(true_boxes, pred_boxes, scores, iou_threshold)
    if num_true == 0:
        raise ValueError("there is no true box: recall (found / true boxes) is undefined.")
    tp = np.cumsum(hits).astype(float)
    fp = np.cumsum(~hits).astype(float)
    return tp / (tp + fp), tp / num_true, sorted_scores


def average_precision(
    true_boxes: object, pred_boxes: object, scores: object, iou_threshold: float = 0.5
) -> float:
    """Average precision at one IoU threshold, COCO's way (AP50 at 0.5, AP75 at 0.75).

    The precision–recall curve is made monotone (each precision becomes the best precision at
    any higher recall), read at the 101 recall levels 0, 0.01, …, 1 (0 beyond the highest
    recall reached), and averaged: pycocotools' ``COCOeval`` for one class, all areas, 100
    detections per image. Taught in lesson 07, §4 "How detection is scored".

    >>> truth = np.array([[0, 0, 10, 10], [5, 5, 20, 30.0]])
    >>> average_precision(truth, truth + [[30, 30, 30, 30], [0, 0, 0, 0]], [0.1, 0.8])
    0.504950495049505

    Args and Raises: as :func:`precision_recall_curve`.

    Returns:
        AP in [0, 1].
    """
    precision, recall, _ = precision_recall_curve(true_boxes, pred_boxes, scores, iou_threshold)
    envelope = np.maximum.accumulate(precision[::-1])[::-1] if precision.size else precision
    at = np.searchsorted(recall, _RECALL_LEVELS, side="left")  # first point reaching each level
    sampled = np.where(at < len(envelope), envelope[np.minimum(at, len(envelope) - 1)], 0.0)
    return float(np.mean(sampled)) if precision.size else 0.0


def coco_average_precision(true_boxes: object, pred_boxes: object, scores: object) -> float:
    """COCO's AP: :func:`average_precision` averaged over IoU thresholds 0.50:0.05:0.95.

    Taught in lesson 07, §4 "How detection is scored".

    >>> box = np.array([[0, 0, 10, 10.]])  # IoU 0.77: a hit at 0.50 to 0.75, a miss above
    >>> coco_average_precision(box, box * [1, 1, 1, 0.77], [1.0])
    0.6

    Args and Raises: as :func:`precision_recall_curve`.

    Returns:
        AP in [0, 1] (``stats[0]`` of pycocotools' ``COCOeval.summarize`` for one class).
    """
    per_threshold = [
        average_precision(true_boxes, pred_boxes, scores, t) for t in COCO_IOU_THRESHOLDS
    ]
    return float(np.mean(per_threshold))
