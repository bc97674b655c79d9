"""Segmentation and detection metrics: confusion matrix, IoU, Dice, pixel accuracy, box IoU.

Taught in ``notebooks/02_iou.ipynb``. Every function takes NumPy arrays, TensorFlow tensors or
nested lists and returns NumPy values; nothing here imports TensorFlow.

How masks are read (the same rules everywhere):

* ``y_true`` holds integer class labels, shape e.g. ``(H, W)`` or ``(B, H, W)``. Float arrays
  holding whole numbers (``0., 1., 2.``) and boolean masks are accepted as labels.
* ``y_pred`` holds either labels of the same shape, or *scores* (probabilities or logits) with
  one extra trailing class axis, ``(B, H, W, C)``, of which the argmax is taken.
* A trailing singleton channel is dropped first on either side, so ``(B, H, W, 1)`` and
  ``(B, H, W)`` mix freely.
* The rule that tells scores from labels is about shapes only: after dropping singleton
  channels, ``y_pred`` is scores exactly when it has one more axis than ``y_true`` and their
  leading axes agree. So an ``(H, W, 3)`` label image compared with another ``(H, W, 3)``
  label image is labels, while ``(H, W, 3)`` compared with an ``(H, W)`` truth is scores.

A class absent from both truth and prediction has no IoU or Dice (``NaN``); the means skip it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "box_iou",
    "confusion_matrix",
    "dice_from_confusion",
    "dice_per_class",
    "iou_from_confusion",
    "iou_per_class",
    "mean_dice",
    "mean_iou",
    "mean_iou_per_image",
    "pixel_accuracy",
]


def _to_array(x: ArrayLike, name: str) -> np.ndarray:
    """Convert to a non-empty NumPy array without a trailing singleton channel."""
    array = np.asarray(x)
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}): expected at least one pixel.")
    if array.ndim >= 2 and array.shape[-1] == 1:
        array = array[..., 0]
    return array


def _to_labels(array: np.ndarray, name: str, num_classes: int | None) -> np.ndarray:
    """Check that ``array`` holds whole-number labels in [0, num_classes); return int64."""
    if array.dtype == bool:
        array = array.astype(np.int64)
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise ValueError(f"{name} has dtype {array.dtype}: expected integer class labels.")
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{name} contains NaN or infinity: expected integer class labels.")
        fractional = array[array != np.round(array)]
        if fractional.size:
            classes = "C" if num_classes is None else f"C = {num_classes}"
            raise ValueError(
                f"{name} holds non-integer values such as {fractional.flat[0]:.3g}: it looks "
                f"like probabilities; pass labels or scores with a trailing class axis of "
                f"length {classes} (for one sigmoid channel, threshold it: probs > 0.5)."
            )
    labels = array.astype(np.int64)
    low, high = labels.min(), labels.max()
    if num_classes is not None and (low < 0 or high >= num_classes):
        raise ValueError(
            f"{name} has labels from {low} to {high}: expected labels in [0, {num_classes}) "
            f"for num_classes={num_classes}. Is num_classes right, or do the labels need "
            "shifting (e.g. the pets trimap's `mask - 1`)?"
        )
    return labels


def _pred_to_labels(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int | None) -> np.ndarray:
    """Turn ``y_pred`` (labels, or scores with a trailing class axis) into labels."""
    if y_pred.ndim == y_true.ndim + 1 and y_pred.shape[:-1] == y_true.shape:
        if num_classes is not None and y_pred.shape[-1] != num_classes:
            raise ValueError(
                f"y_pred has a trailing class axis of length {y_pred.shape[-1]}: expected "
                f"num_classes={num_classes} scores per pixel (y_pred shape {y_pred.shape})."
            )
        if not np.all(np.isfinite(y_pred)):
            raise ValueError("y_pred scores contain NaN or infinity: expected finite scores.")
        return np.argmax(y_pred, axis=-1)
    if y_pred.shape != y_true.shape:
        channels = "C" if num_classes is None else str(num_classes)
        scores_shape = "(" + ", ".join([str(n) for n in y_true.shape] + [channels]) + ")"
        raise ValueError(
            f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}: expected "
            f"labels of the same shape, or scores of shape {scores_shape} "
            "(a trailing channel of 1 is ignored on either side)."
        )
    return _to_labels(y_pred, "y_pred", num_classes)


def _check_num_classes(num_classes: int) -> None:
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}.")
    if num_classes < 2:
        raise ValueError(
            f"num_classes must be >= 2, got {num_classes}: a binary mask has 2 classes "
            "(background and object)."
        )


def _check_ignore_class(ignore_class: int | None, num_classes: int) -> None:
    if ignore_class is None:
        return
    if isinstance(ignore_class, bool) or not isinstance(ignore_class, (int, np.integer)):
        raise ValueError(f"ignore_class must be a class label or None, got {ignore_class!r}.")
    if not 0 <= ignore_class < num_classes:
        raise ValueError(
            f"ignore_class={ignore_class} is not a class: expected a label in "
            f"[0, {num_classes}) (the pets' border is 2), or None to keep every pixel."
        )


def confusion_matrix(
    y_true: ArrayLike, y_pred: ArrayLike, num_classes: int, ignore_class: int | None = None
) -> np.ndarray:
    """Count pixels by (true class, predicted class).

    >>> confusion_matrix([[0, 2, 1]], [[0, 0, 2]], num_classes=3, ignore_class=2).tolist()
    [[1, 0, 0], [0, 0, 1], [0, 0, 0]]

    Args:
        y_true: integer labels in [0, num_classes), any shape, e.g. ``(B, H, W)`` or
            ``(B, H, W, 1)``.
        y_pred: labels of the same shape, or scores ``(..., num_classes)`` (argmax taken).
        num_classes: number of classes C (at least 2).
        ignore_class: a label whose *true* pixels are left out (e.g. the pets' border,
            2), as ``keras.metrics.MeanIoU(ignore_class=...)`` does: its row is all zeros,
            while other pixels predicted as it still count in its column.

    Returns:
        ``(C, C)`` int64 array; entry ``[i, j]`` counts pixels of true class i predicted as j
        (rows = truth, columns = prediction). It sums to the number of pixels counted.

    Raises:
        ValueError: on empty inputs, mismatched shapes, labels outside [0, C), non-integer
            labels, a class axis of the wrong length, num_classes < 2, or an ignore_class
            outside [0, C).
    """
    _check_num_classes(num_classes)
    _check_ignore_class(ignore_class, num_classes)
    truth = _to_array(y_true, "y_true")
    pred = _pred_to_labels(truth, _to_array(y_pred, "y_pred"), num_classes)
    truth = _to_labels(truth, "y_true", num_classes)
    if ignore_class is not None:
        kept = truth != ignore_class
        truth, pred = truth[kept], pred[kept]
    flat = truth.ravel() * num_classes + pred.ravel()
    counts = np.bincount(flat, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).astype(np.int64)


def _ratio_or_nan(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Elementwise numerator / denominator, NaN where the denominator is 0."""
    out = np.full(denominator.shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def iou_from_confusion(cm: ArrayLike) -> np.ndarray:
    """Per-class IoU from a confusion matrix (e.g. one summed over a whole dataset).

    IoU_c = TP / (TP + FP + FN) = cm[c, c] / (row_c + column_c - cm[c, c]).

    Args:
        cm: ``(C, C)`` counts, rows = truth, columns = prediction.

    Returns:
        ``(C,)`` float64 in [0, 1]; NaN for a class absent from truth and prediction.
    """
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    return _ratio_or_nan(tp, cm.sum(axis=0) + cm.sum(axis=1) - tp)


def dice_from_confusion(cm: ArrayLike) -> np.ndarray:
    """Per-class Dice (F1) from a confusion matrix: 2 TP / (2 TP + FP + FN).

    Args:
        cm: ``(C, C)`` counts, rows = truth, columns = prediction.

    Returns:
        ``(C,)`` float64 in [0, 1]; NaN for a class absent from truth and prediction.
    """
    cm = np.asarray(cm, dtype=np.float64)
    return _ratio_or_nan(2 * np.diag(cm), cm.sum(axis=0) + cm.sum(axis=1))


def iou_per_class(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int) -> np.ndarray:
    """Intersection over union of each class, |P ∩ G| / |P ∪ G|, over all pixels given.

    Args and Raises: as :func:`confusion_matrix`.

    Returns:
        ``(C,)`` float64 in [0, 1]; NaN for a class absent from both truth and prediction.
        Unlike ``keras.metrics.IoU``, which reports 0 for such a class.
    """
    return iou_from_confusion(confusion_matrix(y_true, y_pred, num_classes))


def mean_iou(
    y_true: ArrayLike, y_pred: ArrayLike, num_classes: int, ignore_class: int | None = None
) -> float:
    """Mean of :func:`iou_per_class` over the classes present in truth or prediction.

    Classes absent from both are skipped, as ``keras.metrics.MeanIoU`` does. With
    ``ignore_class``, the pixels whose truth is that class are left out and the mean runs
    over the *other* classes; a pixel of another class predicted as the ignored one is still
    an error (a false negative of its class). That is ``keras.metrics.IoU(num_classes,
    target_class_ids=<the other classes>, ignore_class=...)``; ``keras.metrics.MeanIoU(
    ignore_class=...)`` instead keeps the ignored class in its mean, with IoU 0 as soon as
    it is predicted anywhere. Taught in ``notebooks/06_evaluation.ipynb`` (section 3).

    >>> mean_iou([[0, 2, 1, 1]], [[0, 0, 2, 1]], num_classes=3, ignore_class=2)
    0.75

    Args and Raises: as :func:`confusion_matrix`. Returns a float in [0, 1].
    """
    ious = iou_from_confusion(confusion_matrix(y_true, y_pred, num_classes, ignore_class))
    if ignore_class is not None:
        ious = np.delete(ious, ignore_class)
    return float(np.nanmean(ious))


def mean_iou_per_image(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int) -> np.ndarray:
    """Mean IoU of each image on its own, over the classes present in that image.

    Used in ``notebooks/06_evaluation.ipynb`` to find a model's worst images. The mean of these
    numbers is *not* the dataset's mean IoU (:func:`mean_iou` of all pixels at once): here every
    image weighs the same, however few pixels of a class it holds.

    Args:
        y_true: a batch of integer labels in [0, num_classes), ``(N, H, W)`` or ``(N, H, W, 1)``.
        y_pred: labels of the same shape, or scores ``(N, H, W, num_classes)`` (argmax taken).
        num_classes: number of classes C (at least 2).

    Returns:
        ``(N,)`` float64 in [0, 1]: entry n averages image n's per-class IoUs over the classes
        found in its truth or its prediction (a class absent from both has no IoU).

    Raises:
        ValueError: as :func:`confusion_matrix`, or ``y_true`` is not a batch of 2-D masks.
    """
    _check_num_classes(num_classes)
    truth = _to_array(y_true, "y_true")
    if truth.ndim != 3:
        raise ValueError(
            f"y_true has shape {np.shape(y_true)}: expected a batch of masks (N, H, W) or "
            "(N, H, W, 1); for one mask use mean_iou, or add a batch axis: mask[None]."
        )
    pred = _pred_to_labels(truth, _to_array(y_pred, "y_pred"), num_classes)
    truth = _to_labels(truth, "y_true", num_classes)
    image = np.arange(len(truth))[:, None]  # (N, 1): which image each pixel belongs to
    flat = (image * num_classes + truth.reshape(len(truth), -1)) * num_classes
    flat = (flat + pred.reshape(len(truth), -1)).ravel()
    cms = np.bincount(flat, minlength=len(truth) * num_classes**2)
    cms = cms.reshape(len(truth), num_classes, num_classes)  # (N, C, C), rows = truth
    tp = np.diagonal(cms, axis1=1, axis2=2)  # (N, C)
    ious = _ratio_or_nan(tp, cms.sum(axis=1) + cms.sum(axis=2) - tp)  # (N, C), NaN: absent
    return np.nanmean(ious, axis=1)


def dice_per_class(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int) -> np.ndarray:
    """Dice coefficient (F1) of each class, 2 |P ∩ G| / (|P| + |G|) = 2 IoU / (1 + IoU).

    Args and Raises: as :func:`confusion_matrix`.

    Returns:
        ``(C,)`` float64 in [0, 1]; NaN for a class absent from both truth and prediction.
    """
    return dice_from_confusion(confusion_matrix(y_true, y_pred, num_classes))


def mean_dice(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int) -> float:
    """Mean of :func:`dice_per_class` over the classes present in truth or prediction.

    Args and Raises: as :func:`confusion_matrix`. Returns a float in [0, 1].
    """
    return float(np.nanmean(dice_per_class(y_true, y_pred, num_classes)))


def pixel_accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Fraction of pixels whose predicted label equals the true label.

    Args:
        y_true: integer labels, any shape (a trailing channel of 1 is ignored).
        y_pred: labels of the same shape, or scores with one extra trailing class axis
            (argmax taken); see the module docstring for the rule.

    Returns:
        float in [0, 1].

    Raises:
        ValueError: on empty inputs, mismatched shapes or non-integer labels.
    """
    truth = _to_array(y_true, "y_true")
    pred = _pred_to_labels(truth, _to_array(y_pred, "y_pred"), None)
    truth = _to_labels(truth, "y_true", None)
    return float(np.mean(truth == pred))


def _to_boxes(boxes: ArrayLike, name: str) -> np.ndarray:
    """Check an ``(N, 4)`` or ``(4,)`` array of xyxy boxes; return it as float64."""
    array = np.asarray(boxes, dtype=np.float64)
    if array.ndim not in (1, 2) or array.shape[-1] != 4:
        raise ValueError(
            f"{name} has shape {array.shape}: expected one box (4,) or boxes (N, 4) as "
            "(x_min, y_min, x_max, y_max)."
        )
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}): expected at least one box.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinity: expected finite coordinates.")
    flipped = (array[..., 2] < array[..., 0]) | (array[..., 3] < array[..., 1])
    if np.any(flipped):
        bad = np.atleast_2d(array)[np.atleast_1d(flipped)][0]
        raise ValueError(
            f"{name} has a box with x_max < x_min or y_max < y_min: {bad.tolist()}. Expected "
            "(x_min, y_min, x_max, y_max); yxyx or (x, y, w, h) boxes must be converted first."
        )
    return array


def box_iou(boxes_a: ArrayLike, boxes_b: ArrayLike) -> np.ndarray | float:
    """Pairwise IoU of axis-aligned boxes (x_min, y_min, x_max, y_max).

    Coordinates are continuous: a box from x = 0 to x = 10 is 10 wide (no "+1" pixel
    convention), as in keras-cv. A pair whose union has zero area (two zero-area boxes)
    has IoU 0, like any pair that does not overlap.

    Args:
        boxes_a: ``(N, 4)`` boxes, or a single ``(4,)`` box.
        boxes_b: ``(M, 4)`` boxes, or a single ``(4,)`` box.

    Returns:
        Like ``np.matmul``, a single-box side contributes no axis: ``(N, M)`` float64 for two
        sets, ``(M,)`` or ``(N,)`` when one side is a single box, and a Python float for two
        single boxes. Values in [0, 1].

    Raises:
        ValueError: on a wrong shape, no boxes, non-finite values or x_max < x_min.
    """
    a, b = _to_boxes(boxes_a, "boxes_a"), _to_boxes(boxes_b, "boxes_b")
    a2, b2 = np.atleast_2d(a)[:, None, :], np.atleast_2d(b)[None, :, :]  # (N, 1, 4), (1, M, 4)
    top_left = np.maximum(a2[..., :2], b2[..., :2])  # (N, M, 2) corners of the intersection
    bottom_right = np.minimum(a2[..., 2:], b2[..., 2:])
    intersection = np.prod(np.clip(bottom_right - top_left, 0, None), axis=-1)  # (N, M)
    area_a = np.prod(a2[..., 2:] - a2[..., :2], axis=-1)  # (N, 1)
    area_b = np.prod(b2[..., 2:] - b2[..., :2], axis=-1)  # (1, M)
    union = area_a + area_b - intersection
    iou = np.divide(intersection, union, out=np.zeros_like(union), where=union > 0)
    if a.ndim == 1:
        iou = iou[0]
    if b.ndim == 1:
        iou = iou[..., 0]
    return float(iou) if iou.ndim == 0 else iou
