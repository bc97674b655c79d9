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
from labutils.models import any_image_size
from labutils.vocabulary import CLASS_NAMES, NUM_CLASSES

__all__ = [
    "SCALES",
    "TTA",
    "choose_tta",
    "evaluate_model",
    "flip_average",
    "multiscale_average",
    "predict_full_size",
    "predict_probs",
]

#: Test-time augmentations, cheapest first: the plain prediction, :func:`flip_average`, and
#: :func:`multiscale_average` (flip-averaged at three sides).
TTA = ("none", "flip", "flip+scales")
#: The sides :func:`multiscale_average` predicts at, relative to the images' (128: 112 to 144).
SCALES = (0.875, 1.0, 1.125)

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
    :func:`evaluate_model` with ``tta="flip"``.

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


def multiscale_average(
    model: keras.Model, images: Any, scales: tuple[float, ...] = SCALES
) -> np.ndarray:
    """:func:`flip_average` at several sides of the images, each resized back, averaged.

    The model sees each photo a little smaller and a little larger as well as at its own side:
    a pet seen at another size is still a pet, so the predictions again tend to err in
    different places. Each side is ``scale`` × the images' side rounded to a multiple of
    ``2**depth``, the model's number of 2× poolings, so that a U-Net's skips line up.
    Used in lesson 05, §10 "Reading the curves", and by :func:`predict_probs`.

    Args:
        model: a Keras model mapping images (B, H, W, 3) of such sides to probabilities.
        images: float32 (B, S, S, 3).
        scales: the sides relative to S.

    Returns:
        float32 probabilities (B, S, S, C), summing to 1 over the last axis.
    """
    images = tf.cast(images, tf.float32)
    side = tuple(images.shape[1:3])
    multiple = 2 ** sum(isinstance(layer, keras.layers.MaxPooling2D) for layer in model.layers)
    total = 0.0
    with any_image_size(model):
        for scale in scales:
            size = tuple(max(multiple, round(s * scale / multiple) * multiple) for s in side)
            scaled = images if size == side else tf.image.resize(images, size, "bilinear")
            probs = flip_average(model, scaled)
            total += probs if size == side else tf.image.resize(probs, side, "bilinear").numpy()
    return (total / len(scales)).astype(np.float32)


def _check_tta(tta: str) -> None:
    """Raise a ValueError naming the choices unless ``tta`` is one of :data:`TTA`."""
    if tta not in TTA:
        raise ValueError(f"tta must be one of {TTA}, got {tta!r}.")


def predict_probs(model: keras.Model, images: Any, tta: str = "none") -> np.ndarray:
    """The model's probabilities for ``images`` under one of the test-time augmentations.

    Used in lesson 06, §1 "The model, and the photos that chose it", and by
    :func:`evaluate_model`.

    Args:
        model: maps images (B, S, S, 3) to probabilities (B, S, S, C).
        images: float32 (B, S, S, 3).
        tta: one of :data:`TTA`.

    Returns:
        float32 probabilities (B, S, S, C).

    Raises:
        ValueError: ``tta`` is not one of :data:`TTA`.
    """
    _check_tta(tta)
    if tta == "flip+scales":
        return multiscale_average(model, images)
    if tta == "flip":
        return flip_average(model, images)
    return np.asarray(model.predict_on_batch(images))


def choose_tta(
    model: keras.Model, val_batches: tf.data.Dataset
) -> tuple[str, dict[str, dict[str, Any]]]:
    """Score the validation photos under every test-time augmentation; keep the best.

    The rule of lesson 05, §10 and lesson 06, §1: an augmentation is kept only if it raises
    the validation mean IoU (a tie keeps the cheaper way). Used by ``python -m labutils
    train`` and the benchmark before they score the test photos.

    Returns:
        The kept name (one of :data:`TTA`) and the :func:`evaluate_model` scores of each.
    """
    scores = {tta: evaluate_model(model, val_batches, tta=tta) for tta in TTA}
    kept = max(TTA, key=lambda tta: (scores[tta]["miou"], -TTA.index(tta)))
    return kept, scores


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
    tta: str = "none",
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
        tta: a test-time augmentation, one of :data:`TTA` (see :func:`predict_probs`);
            ``"flip"`` averages each prediction with that of the mirrored image.

    Returns:
        ``miou``, ``iou_per_class`` and ``dice_per_class`` (by class name), ``mean_dice``,
        ``pixel_accuracy``, ``images`` (how many were scored) and ``confusion_matrix``
        (C × C counts, rows = truth).

    Raises:
        ValueError: if the dataset is empty, or ``tta`` is not one of :data:`TTA`.

    >>> masks = np.array([[[[0], [1]], [[2], [2]]]])  # one 2 × 2 mask, (1, 2, 2, 1)
    >>> class Oracle:  # stands in for a model that is always right on this mask
    ...     def predict_on_batch(self, images):
    ...         return np.eye(NUM_CLASSES, dtype=np.float32)[masks[..., 0]]
    >>> ds = tf.data.Dataset.from_tensors((np.zeros((1, 2, 2, 3), np.float32), masks))
    >>> result = evaluate_model(Oracle(), ds)
    >>> result["miou"], result["images"], result["iou_per_class"]["border"]
    (1.0, 1, 1.0)
    """
    _check_tta(tta)
    cm = np.zeros((num_classes, num_classes), np.int64)
    images_seen = 0
    for images, masks in dataset:
        probs = predict_probs(model, images, tta)
        pred_masks = predict_full_size(probs, *masks.shape[1:3])  # (B, M, M) int64
        cm += metrics.confusion_matrix(masks.numpy(), pred_masks, num_classes)
        seen = images_seen + len(images)
        if verbose and seen // _REPORT_EVERY > images_seen // _REPORT_EVERY:
            print(f"  evaluated {seen} images", file=sys.stderr)
        images_seen = seen
    if not images_seen:
        raise ValueError("Nothing to evaluate: the dataset holds no images.")
    return _scores(cm, images_seen)
