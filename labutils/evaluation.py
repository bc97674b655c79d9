"""Score a trained model on a dataset: one confusion matrix, every score from it.

The evaluation step of the package's flow (training → evaluation → pictures). Taught in
lesson 06, §2 "One confusion matrix, every score".
"""

from __future__ import annotations

import sys
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from labutils import metrics
from labutils.vocabulary import CLASS_NAMES, NUM_CLASSES

__all__ = ["evaluate_model", "flip_average", "predict_full_size"]

_REPORT_EVERY = 256  # images between two progress lines of a verbose evaluation


def predict_full_size(probs: Any, height: int, width: int) -> np.ndarray:
    """Enlarge probabilities bilinearly to ``(height, width)``, then take the argmax.

    Enlarging the probabilities, not the labels, puts class boundaries between the model's
    coarse pixels instead of along their edges. Taught in lesson 06, §4 "At the photo's own
    resolution" (Exercise 1 writes it); used by :func:`evaluate_model`.

    Args:
        probs: float (S, S, C) or (B, S, S, C), summing to 1 over the last axis.
        height: the output's height H.
        width: the output's width W.

    Returns:
        int64 labels (H, W), or (B, H, W) for a batch, values 0..C-1.

    >>> probs = np.array([[[0.9, 0.1], [0.2, 0.8]]], np.float32)  # (1, 2, 2): one row
    >>> predict_full_size(probs, 1, 4)
    array([[0, 0, 1, 1]])
    """
    if tuple(np.shape(probs)[-3:-1]) != (height, width):
        probs = tf.image.resize(probs, (height, width), "bilinear")
    return np.argmax(probs, axis=-1)


def flip_average(model: keras.Model, images: Any) -> np.ndarray:
    """The model's probabilities for ``images`` averaged with those for their mirror images.

    Each image is also predicted mirrored left-right; that prediction is mirrored back, so
    its pixels line up with the image's again, and the two probabilities are averaged before
    any argmax. A pet mirrored is still a pet, so the two predictions tend to err in different
    places: test-time augmentation, for the price of a second prediction. Whether it helps a
    given model is for the validation photos to say.
    Taught in lesson 05, §10 "Reading the curves" (Exercise 8 writes it); used by
    :func:`evaluate_model` with ``flip=True``.

    Args:
        model: maps images (B, S, S, 3) to probabilities (B, S, S, C).
        images: float32 (B, S, S, 3).

    Returns:
        float32 probabilities (B, S, S, C), summing to 1 over the last axis.

    >>> class LeftIsPet:  # stands in for a model that calls the left pixel of a row class 0
    ...     def predict_on_batch(self, images):
    ...         return np.array([[[[1.0, 0.0], [0.0, 1.0]]]], np.float32)  # (1, 1, 2, 2)
    >>> flip_average(LeftIsPet(), np.zeros((1, 1, 2, 3), np.float32))[0, 0]  # its bias cancels
    array([[0.5, 0.5],
           [0.5, 0.5]], dtype=float32)
    """
    images = tf.convert_to_tensor(images)
    probs = np.asarray(model.predict_on_batch(images))
    mirrored = np.asarray(model.predict_on_batch(tf.reverse(images, axis=[2])))
    return (probs + mirrored[:, :, ::-1]) / 2


def _predicted_labels(
    model: keras.Model, images: tf.Tensor, side: tuple[int, int], flip: bool
) -> np.ndarray:
    """The model's labels (B, M, M) for ``images``, its probabilities resized to ``side``."""
    probs = flip_average(model, images) if flip else model.predict_on_batch(images)
    return predict_full_size(probs, *side)  # (B, M, M) int64


def _scores(cm: np.ndarray, images: int) -> dict[str, Any]:
    """The report of :func:`evaluate_model` from its confusion matrix (C × C counts)."""
    iou, dice = metrics.iou_from_confusion(cm), metrics.dice_from_confusion(cm)
    num_classes = len(cm)
    names = CLASS_NAMES if num_classes == len(CLASS_NAMES) else range(num_classes)
    return {
        "miou": float(np.nanmean(iou)),
        "iou_per_class": {str(n): float(v) for n, v in zip(names, iou, strict=True)},
        "mean_dice": float(np.nanmean(dice)),
        "dice_per_class": {str(n): float(v) for n, v in zip(names, dice, strict=True)},
        "pixel_accuracy": float(np.trace(cm) / cm.sum()),
        "images": images,
        "confusion_matrix": cm.tolist(),
    }


def evaluate_model(
    model: keras.Model,
    dataset: tf.data.Dataset,
    num_classes: int = NUM_CLASSES,
    verbose: bool = False,
    flip: bool = False,
) -> dict[str, Any]:
    """Score a model on a dataset by accumulating one confusion matrix over all batches.

    Taught in lesson 06, §2 "One confusion matrix, every score". Used in lesson 05, §10
    "Reading the curves" and §11 "Selection bias, measured on the validation photos alone",
    and in lesson 09, §5 "A fair comparison: a U-Net trained from scratch" to §7.

    When the masks are larger or smaller than the model's output, the predicted
    probabilities are resized bilinearly to the masks' size before the argmax, so that
    models of any input size are compared at the same resolution.

    Args:
        model: maps images (B, S, S, 3) to probabilities (B, S, S, C).
        dataset: batches of ``(images float32 (B, S, S, 3), masks int (B, M, M, 1))``.
        num_classes: number of classes C.
        verbose: report progress on stderr.
        flip: average each prediction with that of the mirrored image (:func:`flip_average`).

    Returns:
        ``miou``, ``iou_per_class`` and ``dice_per_class`` (by class name), ``mean_dice``,
        ``pixel_accuracy``, ``images`` (how many were scored) and ``confusion_matrix``
        (C × C counts, rows = truth).

    Raises:
        ValueError: if the dataset is empty.

    >>> masks = np.array([[[[0], [1]], [[2], [2]]]])  # one 2 × 2 mask, (1, 2, 2, 1)
    >>> class Oracle:  # stands in for a model that is always right on this mask
    ...     def predict_on_batch(self, images):
    ...         return np.eye(NUM_CLASSES, dtype=np.float32)[masks[..., 0]]
    >>> ds = tf.data.Dataset.from_tensors((np.zeros((1, 2, 2, 3), np.float32), masks))
    >>> result = evaluate_model(Oracle(), ds)
    >>> result["miou"], result["images"], result["iou_per_class"]["border"]
    (1.0, 1, 1.0)
    """
    cm = np.zeros((num_classes, num_classes), np.int64)
    images_seen = 0
    for images, masks in dataset:
        pred_masks = _predicted_labels(model, images, masks.shape[1:3], flip)
        cm += metrics.confusion_matrix(masks.numpy(), pred_masks, num_classes)
        seen = images_seen + len(images)
        if verbose and seen // _REPORT_EVERY > images_seen // _REPORT_EVERY:
            print(f"  evaluated {seen} images", file=sys.stderr)
        images_seen = seen
    if not images_seen:
        raise ValueError("Nothing to evaluate: the dataset holds no images.")
    return _scores(cm, images_seen)
