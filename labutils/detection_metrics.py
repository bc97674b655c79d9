"""How detection is scored: matching detections to true boxes, precision, recall and AP.

The functions take, for N images, N lists of true boxes, N lists of predicted boxes and N lists
of their scores (an ``(N, 4)`` array means one box per image), xyxy as in :mod:`labutils.bbox`.
They follow COCO's reference implementation (``pycocotools``), which the tests check them
against. Taught in lesson 07, §4 "How detection is scored".
"""

from __future__ import annotations

import numpy as np

from labutils.bbox import as_boxes, box_iou
from labutils.metrics import iou_from_counts

__all__ = [
    "COCO_IOU_THRESHOLDS",
    "ap_from_curve",
    "average_precision",
    "coco_average_precision",
    "mask_average_precision",
    "mask_ious",
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
    truth, preds, conf = _check_inputs(true_boxes, pred_boxes, scores)
    ious = [box_iou(dt, gt) if dt.size and gt.size else np.zeros((len(dt), len(gt)))
            for gt, dt in zip(truth, preds, strict=True)]  # fmt: skip
    return _match(ious, conf, iou_threshold, max_detections)


def _match(
    ious: list[np.ndarray], conf: list[np.ndarray], iou_threshold: float, max_detections: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`match_detections` from each image's (D_i, G_i) IoUs of detections with truths."""
    if not 0 < iou_threshold <= 1:
        raise ValueError(f"iou_threshold must lie in (0, 1], got {iou_threshold}.")
    threshold = min(iou_threshold, 1 - 1e-10)  # as pycocotools: an IoU of 1 - eps still hits
    all_scores, all_hits = [], []
    for image_ious, sc in zip(ious, conf, strict=True):
        order = np.argsort(-sc, kind="mergesort")[:max_detections]
        hits, taken = np.zeros(len(order), bool), np.zeros(image_ious.shape[1], bool)
        for d, row in enumerate(image_ious[order]):
            candidates = np.where(~taken & (row >= threshold), row, -1.0)
            if candidates.size and candidates.max() >= 0:  # the last of equal best, as COCO
                best = len(row) - 1 - int(np.argmax(candidates[::-1]))
                taken[best], hits[d] = True, True
        all_scores.append(sc[order])
        all_hits.append(hits)
    flat_scores, flat_hits = np.concatenate(all_scores), np.concatenate(all_hits)
    order = np.argsort(-flat_scores, kind="mergesort")
    return flat_scores[order], flat_hits[order], sum(m.shape[1] for m in ious)


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
    return (*_curve(hits, num_true), sorted_scores)


def _curve(hits: np.ndarray, num_true: int) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall after each of the detections ``hits`` (sorted by score)."""
    if num_true == 0:
        raise ValueError("there is no true box or object: recall (found / true) is undefined.")
    tp, fp = np.cumsum(hits).astype(float), np.cumsum(~hits).astype(float)
    return tp / (tp + fp), tp / num_true


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
    return ap_from_curve(precision, recall)


def ap_from_curve(precision: object, recall: object) -> float:
    """COCO's 101-point interpolated AP of a precision–recall list (highest score first).

    Each precision becomes the best precision at this or any higher recall (the envelope);
    the envelope is read at the recall levels 0, 0.01, …, 1 (at the first point reaching
    each level, 0 beyond the highest recall) and averaged. Not VOC 2007's 11 levels, nor
    VOC 2010's area under the envelope. Taught in lesson 07, §4 "How detection is scored"
    (the student writes it); used for mask AP in lesson 08.

    >>> round(ap_from_curve([1, 0.5, 2 / 3], [0.5, 0.5, 1]), 4)  # (51 × 1 + 50 × 2/3) / 101
    0.835

    Args:
        precision, recall: (D,) after each detection, recall non-decreasing.

    Returns:
        AP in [0, 1]; 0 for an empty list. Raises ValueError for lists of different lengths.
    """
    precision, recall = np.asarray(precision, float).ravel(), np.asarray(recall, float).ravel()
    if precision.shape != recall.shape:
        raise ValueError(f"expected one recall per precision, got {precision.shape} and "
                         f"{recall.shape}.")  # fmt: skip
    if not precision.size:
        return 0.0
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    at = np.searchsorted(recall, _RECALL_LEVELS, side="left")  # first point reaching each level
    sampled = np.where(at < len(envelope), envelope[np.minimum(at, len(envelope) - 1)], 0.0)
    return float(np.mean(sampled))


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


def mask_ious(pred_masks: object, true_masks: object) -> np.ndarray:
    """Pairwise IoU of predicted and true instance masks of one image.

    Taught in lesson 08, §2 "Scoring instances" (the student writes it).

    >>> mask_ious(np.array([[[1, 1, 0]]]), np.array([[[1, 0, 0]], [[0, 0, 1]]])).tolist()
    [[0.5, 0.0]]

    Args:
        pred_masks: bool or 0/1 (D, H, W).
        true_masks: bool or 0/1 (G, H, W).

    Returns:
        float64 (D, G); 0 where both masks are empty. Raises ValueError for masks that are
        not two stacks of one size.
    """
    pred, true = np.asarray(pred_masks, bool), np.asarray(true_masks, bool)
    if pred.ndim != 3 or true.ndim != 3 or pred.shape[1:] != true.shape[1:]:
        raise ValueError(f"expected (D, H, W) and (G, H, W) masks of one size, got {pred.shape}"
                         f" and {true.shape}.")  # fmt: skip
    p, t = pred.reshape(len(pred), -1).astype(float), true.reshape(len(true), -1).astype(float)
    return iou_from_counts(p @ t.T, p.sum(1)[:, None], t.sum(1)[None, :], empty=0.0)


def mask_average_precision(
    true_instances: object, pred_masks: object, scores: object, iou_threshold: float = 0.5
) -> float:
    """AP of instance masks, COCO's way: :func:`average_precision` with mask IoU for box IoU.

    Taught in lesson 08, §2 "Scoring instances".

    Args:
        true_instances: N label maps (H_i, W_i), 0 for no object, k for object k.
        pred_masks: N stacks of D_i bool masks (D_i, H_i, W_i).
        scores: N sequences of D_i confidences.
        iou_threshold: the least mask IoU of a hit, in (0, 1].

    Returns:
        AP in [0, 1] (pycocotools' ``COCOeval`` with ``iouType="segm"``, one class). Raises
        ValueError for inputs that do not line up, or no true object at all.
    """
    ious, conf = [], []
    for ids, masks, sc in zip(true_instances, pred_masks, scores, strict=True):
        ids = np.asarray(ids)
        truth = ids[None] == np.unique(ids[ids != 0])[:, None, None]  # (G, H, W), G may be 0
        ious.append(mask_ious(np.reshape(masks, (-1, *ids.shape)), truth))
        conf.append(np.asarray(sc, float).reshape(-1))
        if len(ious[-1]) != len(conf[-1]):
            raise ValueError(f"{len(ious[-1])} predicted masks but {len(conf[-1])} scores.")
    return ap_from_curve(*_curve(*_match(ious, conf, iou_threshold, 100)[1:]))
