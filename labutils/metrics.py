"""Pixel metrics of segmentation: confusion matrix, IoU, Dice, pixel accuracy, per-image mIoU.

Taught in lesson 02 (§3-§7), used in the later lessons. Inputs may be NumPy arrays, tensors or
nested lists, checked by :func:`labutils.mask_inputs.as_label_mask`; outputs are NumPy. ``y_true``
holds class labels (whole-number floats and booleans count); ``y_pred`` labels of the same
shape, or *scores* (argmax taken): scores exactly when, a trailing channel of 1 dropped on
either side, it has one more axis than ``y_true`` and their leading axes agree. A class absent
from both truth and prediction has no IoU or Dice (``NaN``); the means skip it.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from labutils.mask_inputs import as_label_mask
from labutils.vocabulary import CLASS_NAMES

__all__ = [
    "confusion_matrix",
    "dice_from_confusion",
    "dice_per_class",
    "iou_from_confusion",
    "iou_from_counts",
    "iou_per_class",
    "mean_dice",
    "mean_iou",
    "mean_iou_per_image",
    "pixel_accuracy",
]


def _labels(
    y_true: ArrayLike, y_pred: ArrayLike, num_classes: int | None, ndim: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(truth, pred)`` as int64 labels of one shape; ``y_pred`` may be scores (argmax taken)."""
    truth = as_label_mask(y_true, "y_true", num_classes, ndim=ndim)
    pred = np.asarray(y_pred)
    shape = pred.shape[:-1] if pred.ndim >= 2 and pred.shape[-1] == 1 else pred.shape
    if pred.size and len(shape) == truth.ndim + 1 and shape[:-1] == truth.shape:
        if num_classes is not None and shape[-1] != num_classes:
            raise ValueError(
                f"y_pred has a trailing class axis of length {shape[-1]}: expected "
                f"num_classes={num_classes} scores per pixel (y_pred shape {pred.shape})."
            )
        if not np.all(np.isfinite(pred)):
            raise ValueError("y_pred scores contain NaN or infinity: expected finite scores.")
        return truth, np.argmax(pred.reshape(shape), axis=-1)
    if pred.size and shape != truth.shape:
        channels = "C" if num_classes is None else str(num_classes)
        scores_shape = "(" + ", ".join([str(n) for n in truth.shape] + [channels]) + ")"
        raise ValueError(
            f"y_true has shape {truth.shape} but y_pred has shape {pred.shape}: expected "
            f"labels of the same shape, or scores of shape {scores_shape} "
            "(a trailing channel of 1 is ignored on either side)."
        )
    return truth, as_label_mask(pred, "y_pred", num_classes, ndim=None)


def _confusion_matrices(truth: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    """(N, C, C) counts of (N, P) true and predicted labels, one matrix per row."""
    rows = np.arange(len(truth))[:, None]  # (N, 1): which matrix each pixel goes to
    flat = ((rows * num_classes + truth) * num_classes + pred).ravel()
    counts = np.bincount(flat, minlength=len(truth) * num_classes**2)
    return counts.reshape(len(truth), num_classes, num_classes).astype(np.int64)


def _check_classes(num_classes: int, ignore_class: int | None = None) -> None:
    """Refuse a num_classes that is not an integer >= 2, or an ignore_class that is no class."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}.")
    if num_classes < 2:
        raise ValueError(
            f"num_classes must be >= 2, got {num_classes}: a binary mask has 2 classes "
            "(background and object)."
        )
    is_label = isinstance(ignore_class, (int, np.integer)) and not isinstance(ignore_class, bool)
    if ignore_class is not None and not (is_label and 0 <= ignore_class < num_classes):
        raise ValueError(
            f"ignore_class must be a class label in [0, {num_classes}) (the pets' border is "
            f"{CLASS_NAMES.index('border')}), or None to keep every pixel; got {ignore_class!r}."
        )


def confusion_matrix(
    y_true: ArrayLike, y_pred: ArrayLike, num_classes: int, ignore_class: int | None = None
) -> np.ndarray:
    """Count pixels by (true class, predicted class).

    Taught in lesson 02, §4 "Many classes: per-class IoU and mean IoU"; used in lesson 06,
    §2 "One confusion matrix, every score".

    >>> confusion_matrix([[0, 0, 1], [1, 2, 2]], [[0, 1, 1], [1, 2, 0]], 3).tolist()
    [[1, 1, 0], [0, 2, 0], [1, 0, 1]]

    Args:
        y_true: integer labels in [0, num_classes), any shape, e.g. ``(B, H, W, 1)``.
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
    _check_classes(num_classes, ignore_class)
    truth, pred = _labels(y_true, y_pred, num_classes)
    if ignore_class is not None:
        kept = truth != ignore_class
        truth, pred = truth[kept], pred[kept]
    return _confusion_matrices(truth.reshape(1, -1), pred.reshape(1, -1), num_classes)[0]


def _ratio(numerator: ArrayLike, denominator: ArrayLike, empty: float = np.nan) -> np.ndarray:
    """Elementwise numerator / denominator as float64, ``empty`` where the denominator is 0."""
    denominator = np.asarray(denominator)
    out = np.full(denominator.shape, empty, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def iou_from_counts(
    intersection: ArrayLike, size_a: ArrayLike, size_b: ArrayLike, empty: float = np.nan
) -> np.ndarray:
    """IoU from sizes, |A ∩ B| / (|A| + |B| − |A ∩ B|): pixel counts of masks, areas of boxes.

    The one IoU formula here, behind :func:`iou_from_confusion` and ``bbox.box_iou``.
    Taught in lesson 02, §3 "Pixel IoU: how well does a predicted mask cover the truth?".

    >>> iou_from_counts([4, 0], [16, 0], [16, 0]).tolist()  # the second union is empty
    [0.14285714285714285, nan]

    Args:
        intersection, size_a, size_b: |A ∩ B|, |A| and |B|, arrays that broadcast together.
        empty: the IoU where the union is 0 (NaN: a class absent from both; boxes use 0).

    Returns:
        float64 in [0, 1] (or ``empty``), of the broadcast shape.
    """
    union = np.asarray(size_a) + np.asarray(size_b) - np.asarray(intersection)
    return _ratio(intersection, union, empty)


def iou_from_confusion(cm: ArrayLike) -> np.ndarray:
    """Per-class IoU from a confusion matrix (e.g. one summed over a whole dataset).

    IoU_c = TP / (TP + FP + FN) = cm[c, c] / (row_c + column_c - cm[c, c]).
    Taught in lesson 02, §4 "Many classes: per-class IoU and mean IoU"; used in lesson 06,
    §2 "One confusion matrix, every score".

    >>> iou_from_confusion([[1, 1], [0, 2]]).tolist()  # class 0: 1 / (1 + 1); class 1: 2 / 3
    [0.5, 0.6666666666666666]

    Args:
        cm: ``(C, C)`` counts, rows = truth, columns = prediction (or a stack ``(N, C, C)``).

    Returns:
        ``(C,)`` (or ``(N, C)``) float64 in [0, 1]; NaN for a class absent from truth and
        prediction.
    """
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    return iou_from_counts(tp, cm.sum(axis=-2), cm.sum(axis=-1))


def dice_from_confusion(cm: ArrayLike) -> np.ndarray:
    """Per-class Dice (F1) from a confusion matrix: 2 TP / (2 TP + FP + FN).

    Used in lesson 06, §2 "One confusion matrix, every score".

    >>> dice_from_confusion([[1, 1], [0, 2]]).round(3).tolist()  # class 0: 2 / (2 + 1)
    [0.667, 0.8]

    Args:
        cm: ``(C, C)`` counts, rows = truth, columns = prediction.

    Returns:
        ``(C,)`` float64 in [0, 1]; NaN for a class absent from truth and prediction.
    """
    cm = np.asarray(cm, dtype=np.float64)
    return _ratio(2 * np.diag(cm), cm.sum(axis=0) + cm.sum(axis=1))


def iou_per_class(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int) -> np.ndarray:
    """Intersection over union of each class, |P ∩ G| / |P ∪ G|, over all pixels given.

    Taught in lesson 02, §3 "Pixel IoU: how well does a predicted mask cover the truth?".

    >>> iou_per_class([[0, 0, 1], [1, 2, 2]], [[0, 1, 1], [1, 2, 0]], 3).round(3).tolist()
    [0.333, 0.667, 0.5]

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
    ``ignore_class``, pixels whose truth is that class are left out and the mean runs over the
    *other* classes; another class predicted as the ignored one is still an error. That is
    ``keras.metrics.IoU(num_classes, target_class_ids=<the others>, ignore_class=...)``;
    ``keras.metrics.MeanIoU(ignore_class=...)`` keeps the ignored class, at IoU 0 once predicted.
    Taught in lesson 02, §4 "Many classes: per-class IoU and mean IoU"; ``ignore_class`` in
    lesson 06, §3 "The border: an ambiguous region".

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

    The mean of these numbers is *not* the dataset's mean IoU (:func:`mean_iou` of all pixels
    at once): here every image weighs the same, however few pixels of a class it holds.
    Used in lesson 06, §6 "Image by image" to find a model's worst images.

    >>> mean_iou_per_image([[[0, 1]], [[1, 1]]], [[[0, 1]], [[0, 1]]], 2).tolist()
    [1.0, 0.25]

    Args:
        y_true, y_pred: a batch ``(N, H, W)`` (or ``(N, H, W, 1)``), as :func:`confusion_matrix`.
        num_classes: number of classes C (at least 2).

    Returns:
        ``(N,)`` float64 in [0, 1]: image n's mean IoU over the classes in its truth or its
        prediction.

    Raises:
        ValueError: as :func:`confusion_matrix`, or ``y_true`` is not a batch of 2-D masks.
    """
    _check_classes(num_classes)
    truth, pred = _labels(y_true, y_pred, num_classes, ndim=3)
    flat = truth.reshape(len(truth), -1), pred.reshape(len(truth), -1)  # (N, H * W) each
    ious = iou_from_confusion(_confusion_matrices(*flat, num_classes))  # (N, C), NaN: absent
    return np.nanmean(ious, axis=1)


def dice_per_class(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int) -> np.ndarray:
    """Dice coefficient (F1) of each class, 2 |P ∩ G| / (|P| + |G|) = 2 IoU / (1 + IoU).

    Returns ``(C,)`` float64 in [0, 1], NaN for a class absent from both truth and prediction;
    Args and Raises as :func:`confusion_matrix`. Taught in lesson 02, §7 "Dice, IoU's close
    cousin".

    >>> dice_per_class([[0, 0, 1], [1, 2, 2]], [[0, 1, 1], [1, 2, 0]], 3).round(3).tolist()
    [0.5, 0.8, 0.667]
    """
    return dice_from_confusion(confusion_matrix(y_true, y_pred, num_classes))


def mean_dice(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int) -> float:
    """Mean of :func:`dice_per_class` over the classes present in truth or prediction.

    Taught in lesson 02, §7 "Dice, IoU's close cousin".

    >>> round(mean_dice([[0, 0, 1], [1, 2, 2]], [[0, 1, 1], [1, 2, 0]], 3), 3)
    0.656

    Args and Raises: as :func:`confusion_matrix`. Returns a float in [0, 1].
    """
    return float(np.nanmean(dice_per_class(y_true, y_pred, num_classes)))


def pixel_accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Fraction of pixels whose predicted label equals the true label.

    Taught in lesson 02, §6 "Pixel accuracy, and why it flatters".

    >>> pixel_accuracy([[0, 0, 1], [1, 2, 2]], [[0, 1, 1], [1, 2, 0]])  # 4 of 6 pixels
    0.6666666666666666

    Args and Raises: as :func:`confusion_matrix`, with any labels (no ``num_classes``).
    Returns a float in [0, 1].
    """
    truth, pred = _labels(y_true, y_pred, None)
    return float(np.mean(truth == pred))
