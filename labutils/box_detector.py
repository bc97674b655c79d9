"""A small single-object box detector: the model, its box losses, and its data.

The model predicts one normalised xyxy box and a confidence score per image (see
:mod:`labutils.bbox` for the box conventions). Taught in lesson 07, §2 "A detector trained
in the lesson".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from labutils import data, pipeline
from labutils.bbox import as_boxes

__all__ = [
    "box_head",
    "build_backbone",
    "build_box_detector",
    "detection_loss",
    "giou_box_loss",
    "iou_box_loss",
    "l1_box_loss",
    "load_box_arrays",
    "make_box_dataset",
    "mean_box_iou",
]


def load_box_arrays(
    split: str, source: str | data.DataSource = "auto", image_size: int = 64,
    limit: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Decode a split once, like ``pipeline.load_arrays``, keeping the head boxes too.

    Used in lesson 07, §1 "Boxes in the data" and §3 "Boxes from the segmentation model", and
    in lesson 08, §3 "A box as a prompt: GrabCut" (the test photos).

    Args:
        split: a :func:`labutils.data.load_pets` split, e.g. ``splits.TRAIN_SPLIT``.
        source: anything ``load_pets`` accepts.
        image_size: side S of the square images and masks.
        limit: keep only the first ``limit`` examples (``None``: all).

    Returns:
        ``images`` uint8 (N, S, S, 3), ``masks`` uint8 (N, S, S, 1) class labels (in the
        order of ``vocabulary.CLASS_NAMES``), ``head_bbox`` float32 (N, 4) as TFDS gives it:
        yxyx in 0..1, zeros where there is no head box.

    Raises:
        ValueError: the split holds no images.
    """

    def prepare(example: dict) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        image, mask = pipeline.prepare_example(example, image_size)
        image = tf.cast(tf.round(image * 255.0), tf.uint8)
        return image, tf.cast(mask, tf.uint8), example["head_bbox"]

    ds = data.load_pets(split, source)
    ds = (ds.take(limit) if limit is not None else ds).map(prepare, tf.data.AUTOTUNE)
    parts = [[b.numpy() for b in batch] for batch in ds.batch(256).prefetch(1)]
    if not parts:
        raise ValueError(f"Split {split!r} of the data source holds no images: check the split.")
    images, masks, heads = (np.concatenate(column) for column in zip(*parts, strict=True))
    return images, masks, heads.astype(np.float32)


def build_backbone(image_size: int = 64, filters: Sequence[int] = (16, 32, 64, 128)) -> keras.Model:
    """The detector's small CNN: conv 3×3 → batch norm → ReLU → 2×2 max pooling per stage.

    The last feature map is flattened, not averaged: global average pooling would throw away
    *where* things are, which is the answer here. Used in lesson 07, §2 "A detector trained in
    the lesson" (the given backbone the student puts a box head on).

    >>> build_backbone(64).output_shape
    (None, 2048)

    Args:
        image_size: side S of the square float images in [0, 1] (divisible by 2^len(filters)).
        filters: channels of each stage.

    Returns:
        A ``keras.Model``: (B, S, S, 3) → (B, F) float32 features.

    Raises:
        ValueError: an image size that the stages cannot halve evenly.
    """
    if image_size % 2 ** len(filters):
        raise ValueError(
            f"image_size {image_size} must be divisible by 2^{len(filters)} = "
            f"{2 ** len(filters)} (one halving per stage); try 64 or 128."
        )
    inputs = x = keras.Input((image_size, image_size, 3), name="images")
    for n in filters:
        x = layers.Conv2D(n, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.MaxPooling2D()(layers.ReLU()(x))
    return keras.Model(inputs, layers.Flatten()(x), name="backbone")


def box_head(features: keras.KerasTensor, dense: int = 128) -> keras.KerasTensor:
    """One box and a score from (B, F) features: always a valid box inside the image.

    Two dense layers give 5 raw numbers; per axis, a size ``w = σ(t_w)`` and a position in the
    room left, ``x_min = (1 − w) σ(t_x)``, ``x_max = x_min + w``; the score is ``σ(t_s)``.
    Taught in lesson 07, §2 "A detector trained in the lesson" (the student writes it).

    Args:
        features: (B, F) symbolic features.
        dense: units of the hidden dense layer.

    Returns:
        (B, 5) ``[x_min, y_min, x_max, y_max, score]``, the box normalised to 0..1.
    """
    x = layers.Dense(dense, activation="relu")(features)
    raw = layers.Dense(5, name="raw")(layers.Dropout(0.2)(x))  # t_x, t_y, t_w, t_h, t_score
    return layers.Lambda(_decode_outputs, name="box_and_score")(raw)


def build_box_detector(
    image_size: int = 64, filters: Sequence[int] = (16, 32, 64, 128), dense: int = 128
) -> keras.Model:
    """A compact CNN that predicts one box and a confidence score per image.

    :func:`build_backbone`, then :func:`box_head`. Taught in lesson 07, §2 "A detector trained
    in the lesson".

    Returns:
        An uncompiled ``keras.Model``: (B, S, S, 3) → (B, 5) float32, ``[x_min, y_min, x_max,
        y_max, score]``, the box normalised to 0..1.

    Raises:
        ValueError: an image size that the stages cannot halve evenly.
    """
    backbone = build_backbone(image_size, filters)
    return keras.Model(backbone.input, box_head(backbone.output, dense), name="box_detector")


def _decode_outputs(raw: tf.Tensor) -> tf.Tensor:
    """(B, 5) raw outputs → (B, 5) ``[x_min, y_min, x_max, y_max, score]`` (see the head)."""
    position, size = ops.sigmoid(raw[:, 0:2]), ops.sigmoid(raw[:, 2:4])
    low = (1.0 - size) * position  # (B, 2): x_min, y_min
    return ops.concatenate([low, low + size, ops.sigmoid(raw[:, 4:5])], axis=1)


def _iou_terms(y_true: tf.Tensor, y_pred: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """IoU, union and enclosing-box area of (B, 4+) true and predicted xyxy boxes, each (B,).

    ``bbox.box_iou``'s formula in ``keras.ops``, so that it can be differentiated; a union of 0
    is clamped to 1e-7 (IoU 0), as there.
    """
    t, p = ops.cast(y_true[:, :4], "float32"), ops.cast(y_pred[:, :4], "float32")
    wh = ops.maximum(ops.minimum(t[:, 2:], p[:, 2:]) - ops.maximum(t[:, :2], p[:, :2]), 0.0)
    inter = wh[:, 0] * wh[:, 1]
    area = lambda b: (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])  # noqa: E731
    union = area(t) + area(p) - inter
    hull_wh = ops.maximum(t[:, 2:], p[:, 2:]) - ops.minimum(t[:, :2], p[:, :2])
    return inter / ops.maximum(union, 1e-7), union, hull_wh[:, 0] * hull_wh[:, 1]


def l1_box_loss(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
    """Mean absolute error of the four coordinates: (B, 4) truth, (B, 4+) prediction → (B,).

    Taught in lesson 07, §2 "A detector trained in the lesson" ("Training: L1 against GIoU").
    """
    diff = ops.cast(y_true[:, :4], "float32") - ops.cast(y_pred[:, :4], "float32")
    return ops.mean(ops.abs(diff), axis=1)


def iou_box_loss(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
    """1 − IoU of each true and predicted box: (B, 4), (B, 4+) → (B,) in [0, 1].

    Taught in lesson 07, §2 "A detector trained in the lesson".
    """
    return 1.0 - _iou_terms(y_true, y_pred)[0]


def giou_box_loss(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
    """1 − GIoU of each true and predicted box: (B, 4), (B, 4+) → (B,) in [0, 2).

    The NumPy GIoU is ``bbox.box_giou``. Taught in lesson 07, §2 "A detector trained in the
    lesson" ("Training: L1 against GIoU").
    """
    iou, union, hull = _iou_terms(y_true, y_pred)
    return 1.0 - iou + (hull - union) / ops.maximum(hull, 1e-7)


def mean_box_iou(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
    """A Keras metric: the IoU of each predicted box with its true box, (B,).

    Used in lesson 07, §2 "A detector trained in the lesson".
    """
    return _iou_terms(y_true, y_pred)[0]


_BOX_LOSSES = {"l1": l1_box_loss, "iou": iou_box_loss, "giou": giou_box_loss}


def detection_loss(box_loss: str = "giou") -> Callable[[tf.Tensor, tf.Tensor], tf.Tensor]:
    """The detector's loss: a box loss plus the score's cross-entropy against the box's IoU.

    The score learns to predict how good its own box is (the IoU, held constant, as YOLO's
    confidence does), so detections can be ranked for the precision–recall curve.
    Taught in lesson 07, §2 "A detector trained in the lesson".

    Args:
        box_loss: ``"l1"``, ``"iou"`` or ``"giou"``.

    Returns:
        ``loss(y_true (B, 4), y_pred (B, 5)) → (B,)``, named ``<box_loss>_detection_loss``.

    Raises:
        ValueError: an unknown ``box_loss``.
    """
    if box_loss not in _BOX_LOSSES:
        raise ValueError(f"box_loss must be one of {sorted(_BOX_LOSSES)}, got {box_loss!r}.")
    box_fn = _BOX_LOSSES[box_loss]

    def loss(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
        target = ops.stop_gradient(_iou_terms(y_true, y_pred)[0])[:, None]  # (B, 1)
        score = ops.cast(y_pred[:, 4:5], "float32")
        return box_fn(y_true, y_pred) + keras.losses.binary_crossentropy(target, score)

    loss.__name__ = f"{box_loss}_detection_loss"
    return loss


def _flip_left_right(images: tf.Tensor, boxes: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Mirror a batch (B, S, S, 3) and its (B, 4) normalised boxes, each with probability 1/2."""
    flip = tf.random.uniform([tf.shape(images)[0]]) < 0.5
    mirrored = tf.stack([1.0 - boxes[:, 2], boxes[:, 1], 1.0 - boxes[:, 0], boxes[:, 3]], 1)
    images = tf.where(flip[:, None, None, None], tf.reverse(images, axis=[2]), images)
    return images, tf.where(flip[:, None], mirrored, boxes)


def make_box_dataset(
    images: np.ndarray, boxes: np.ndarray, batch_size: int = 32, augment: bool = False,
    shuffle: bool = False,
) -> tf.data.Dataset:  # fmt: skip
    """Batches of ``(images float32 (B, S, S, 3) in [0, 1], boxes float32 (B, 4))``.

    Used in lesson 07, §2 "A detector trained in the lesson".

    Args:
        images: uint8 (N, S, S, 3).
        boxes: (N, 4) normalised xyxy boxes, one per image.
        batch_size: images per batch.
        augment: mirror each image and its box left-right with probability 1/2.
        shuffle: reshuffle every epoch.

    Raises:
        ValueError: not uint8 images, or not one valid box in 0..1 per image.
    """
    images, boxes = np.asarray(images), np.asarray(boxes, dtype=np.float32)
    if images.dtype != np.uint8 or images.ndim != 4 or boxes.shape != (len(images), 4):
        raise ValueError(
            f"expected uint8 images (N, S, S, 3) and boxes (N, 4), got {images.dtype} "
            f"{images.shape} and {boxes.shape}."
        )
    as_boxes(boxes, "boxes")  # finite, x_max >= x_min
    if boxes.min() < 0 or boxes.max() > 1:
        raise ValueError("boxes must be normalised to 0..1: divide pixels by the image side.")
    ds = tf.data.Dataset.from_tensor_slices((images, boxes))
    if shuffle:
        ds = ds.shuffle(len(images), reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(lambda x, b: (tf.cast(x, tf.float32) / 255.0, b))
    if augment:
        ds = ds.map(_flip_left_right, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
