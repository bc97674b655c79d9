"""Object detection next to segmentation: boxes from files and masks, a small box detector,
its losses, and how detection is scored (precision, recall, AP as PASCAL VOC and COCO do).

Taught in ``notebooks/07_detection.ipynb``. Boxes are ``(x_min, y_min, x_max, y_max)``
("xyxy") in continuous coordinates, as in :func:`labutils.metrics.box_iou`: pixel column ``i``
spans ``[i, i + 1)``, so a mask's box ends one past its last pixel. Boxes are either in pixels
or *normalised*, in 0..1 of the image's width and height; IoU is the same in both.
TFDS's ``head_bbox`` is ``[y_min, x_min, y_max, x_max]`` ("yxyx"), all zeros when absent:
:func:`yxyx_to_xyxy` converts it.

The scoring functions take, for N images, N lists of true boxes, N lists of predicted boxes and
N lists of their scores (an ``(N, 4)`` array means one box per image). They follow COCO's
reference implementation (``pycocotools``), which the tests check them against.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops
from numpy.typing import ArrayLike

from labutils import data, metrics, pipeline

__all__ = [
    "COCO_IOU_THRESHOLDS",
    "average_precision",
    "box_giou",
    "box_mask_iou",
    "box_to_mask",
    "build_box_detector",
    "coco_average_precision",
    "detection_loss",
    "fill_ratio",
    "giou_box_loss",
    "iou_box_loss",
    "l1_box_loss",
    "load_box_arrays",
    "make_box_dataset",
    "make_multi_pet_scene",
    "mask_to_box",
    "match_detections",
    "mean_box_iou",
    "precision_recall",
    "precision_recall_curve",
    "read_voc_box",
    "yxyx_to_xyxy",
]

#: COCO's IoU thresholds, 0.50, 0.55, ..., 0.95 (computed exactly as pycocotools does).
COCO_IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10, endpoint=True)
#: COCO's 101 recall levels 0, 0.01, ..., 1 at which precision is read off the curve.
_RECALL_LEVELS = np.linspace(0.0, 1.0, 101, endpoint=True)


# --- boxes in the data --------------------------------------------------------------------


def read_voc_box(path: str | Path, normalize: bool = False) -> np.ndarray:
    """Read the first object's box from a PASCAL VOC XML annotation.

    VOC writes 1-based pixel indices; like TFDS, they are used as they are (an offset of under
    one pixel) and, with ``normalize``, divided by the image size written in the file.
    Taught in notebooks/07_detection.ipynb, section 1.

    Args:
        path: an ``.xml`` file, e.g. ``annotations/xmls/Abyssinian_100.xml``.
        normalize: divide x by the width and y by the height (0..1, as ``head_bbox``).

    Returns:
        float64 (4,) ``(x_min, y_min, x_max, y_max)``, in pixels or in 0..1.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not a VOC annotation with a ``size`` and an ``object/bndbox``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No VOC annotation at {path}: check the path.")
    try:
        root = ET.parse(path).getroot()
        box = [float(root.findtext(f"object/bndbox/{k}")) for k in ("xmin", "ymin", "xmax", "ymax")]
        width, height = (float(root.findtext(f"size/{k}")) for k in ("width", "height"))
    except (ET.ParseError, TypeError, ValueError) as err:
        raise ValueError(
            f"{path} is not a PASCAL VOC annotation with size/width, size/height and "
            f"object/bndbox/xmin..ymax ({type(err).__name__})."
        ) from None
    if normalize and (width <= 0 or height <= 0):
        raise ValueError(f"{path} gives the image size {width} × {height}: cannot normalise.")
    scale = [width, height, width, height] if normalize else [1.0] * 4
    return np.array(box) / scale


def yxyx_to_xyxy(boxes: ArrayLike) -> np.ndarray:
    """Reorder ``[y_min, x_min, y_max, x_max]`` boxes (TFDS's ``head_bbox``) to xyxy.

    >>> yxyx_to_xyxy([0.1, 0.2, 0.5, 0.6]).tolist()
    [0.2, 0.1, 0.6, 0.5]

    Args:
        boxes: (4,) or (N, 4).

    Returns:
        float64 of the same shape, ``(x_min, y_min, x_max, y_max)``.

    Raises:
        ValueError: the last axis is not 4 long.
    """
    array = np.asarray(boxes, dtype=np.float64)
    if array.shape[-1:] != (4,):
        raise ValueError(f"expected boxes (4,) or (N, 4), got shape {array.shape}.")
    return array[..., [1, 0, 3, 2]]


def _as_masks(masks: ArrayLike, name: str = "masks") -> np.ndarray:
    """Check 0/1 or bool masks (H, W), (N, H, W) or (N, H, W, 1); return bool (H, W) / (N, H, W)."""
    array = np.asarray(masks)
    if array.ndim in (3, 4) and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or array.size == 0:
        raise ValueError(
            f"{name} has shape {np.shape(masks)}: expected one mask (H, W) or masks (N, H, W)."
        )
    if array.dtype != bool and not np.isin(array, (0, 1)).all():
        raise ValueError(
            f"{name} holds values {np.unique(array)[:5].tolist()}: expected a 0/1 or boolean "
            "mask; from class labels make one first, e.g. masks != 1 (not background)."
        )
    return array.astype(bool)


def mask_to_box(masks: ArrayLike, normalize: bool = False) -> np.ndarray:
    """The tightest box around each mask's True pixels (lesson 02's ``mask_to_box``).

    Taught in notebooks/02_iou.ipynb, section 2; used in notebooks/07_detection.ipynb.

    >>> mask_to_box(np.array([[0, 0, 0], [0, 1, 1]])).tolist()
    [1.0, 1.0, 3.0, 2.0]

    Args:
        masks: bool or 0/1, (H, W), (N, H, W) or (N, H, W, 1).
        normalize: divide x by W and y by H (0..1).

    Returns:
        float64 (4,) or (N, 4) xyxy; all zeros for an empty mask (TFDS's "no box").

    Raises:
        ValueError: a wrong shape, or values other than 0/1.
    """
    array = _as_masks(masks)
    batch = array if array.ndim == 3 else array[None]
    height, width = batch.shape[1:]
    rows, cols = batch.any(axis=2), batch.any(axis=1)  # (N, H), (N, W)
    boxes = np.stack(
        [cols.argmax(1), rows.argmax(1), width - cols[:, ::-1].argmax(1),
         height - rows[:, ::-1].argmax(1)], axis=1
    ).astype(np.float64)  # fmt: skip
    boxes[~rows.any(axis=1)] = 0.0
    if normalize:
        boxes /= [width, height, width, height]
    return boxes if array.ndim == 3 else boxes[0]


def box_to_mask(boxes: ArrayLike, height: int, width: int, normalized: bool = False) -> np.ndarray:
    """Paint boxes as masks: a pixel is inside when its centre is.

    >>> box_to_mask([1, 0, 3, 1], 2, 4).astype(int).tolist()
    [[0, 1, 1, 0], [0, 0, 0, 0]]

    Args:
        boxes: (4,) or (N, 4) xyxy, in pixels or (``normalized``) in 0..1.
        height, width: the mask's size.
        normalized: the boxes are in 0..1 of the width and height.

    Returns:
        bool (H, W) for one box, (N, H, W) for N.

    Raises:
        ValueError: see :func:`labutils.metrics.box_iou`'s checks.
    """
    array = metrics._to_boxes(boxes, "boxes")
    batch = np.atleast_2d(array) * ([width, height] * 2 if normalized else 1)
    xs, ys = np.arange(width) + 0.5, np.arange(height) + 0.5  # pixel centres
    inside_x = (xs >= batch[:, 0:1]) & (xs < batch[:, 2:3])  # (N, W)
    inside_y = (ys >= batch[:, 1:2]) & (ys < batch[:, 3:4])  # (N, H)
    out = inside_y[:, :, None] & inside_x[:, None, :]
    return out if array.ndim == 2 else out[0]


def fill_ratio(masks: ArrayLike) -> np.ndarray | float:
    """How much of a mask's own box is mask: mask area / box area.

    >>> fill_ratio(np.array([[1, 0], [1, 1]]))
    0.75

    Args:
        masks: bool or 0/1, (H, W) or (N, H, W) (or (N, H, W, 1)).

    Returns:
        A float, or (N,) float64, in (0, 1]; NaN for an empty mask.
    """
    array = _as_masks(masks)
    boxes = np.atleast_2d(mask_to_box(array))
    box_area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    area = (array if array.ndim == 3 else array[None]).reshape(len(boxes), -1).sum(axis=1)
    ratio = np.divide(area, box_area, out=np.full(len(boxes), np.nan), where=box_area > 0)
    return ratio if array.ndim == 3 else float(ratio[0])


def box_mask_iou(boxes: ArrayLike, masks: ArrayLike, normalized: bool = False) -> np.ndarray:
    """IoU of each box, painted as a mask (:func:`box_to_mask`), with its mask.

    For a mask's own tight box this equals :func:`fill_ratio` (the box holds the mask).

    Args:
        boxes: (4,) or (N, 4) xyxy, in pixels or (``normalized``) in 0..1.
        masks: bool or 0/1, (H, W) or (N, H, W), one per box.
        normalized: the boxes are in 0..1 of the masks' width and height.

    Returns:
        A float, or (N,) float64 in [0, 1] (0 when box and mask are both empty).

    Raises:
        ValueError: bad boxes or masks, or not one mask per box.
    """
    array = _as_masks(masks)
    batch = array if array.ndim == 3 else array[None]
    painted = box_to_mask(np.atleast_2d(boxes), *batch.shape[1:], normalized=normalized)
    if len(painted) != len(batch):
        raise ValueError(
            f"expected one mask per box, got {len(painted)} boxes, {len(batch)} masks."
        )
    inter = (painted & batch).reshape(len(batch), -1).sum(1)
    union = (painted | batch).reshape(len(batch), -1).sum(1)
    iou = np.divide(inter, union, out=np.zeros(len(batch)), where=union > 0)
    return iou if array.ndim == 3 else float(iou[0])


def box_giou(boxes_a: ArrayLike, boxes_b: ArrayLike) -> np.ndarray | float:
    """Generalised IoU (Rezatofighi et al., CVPR 2019) of boxes taken pair by pair.

    GIoU = IoU − |C \\ (A ∪ B)| / |C|, with C the smallest box enclosing A and B; it lies in
    (−1, 1] and, unlike IoU, still says how far apart two disjoint boxes are.

    >>> round(box_giou([0, 0, 1, 1], [2, 0, 3, 1]), 3)
    -0.333

    Args:
        boxes_a, boxes_b: (4,) or (N, 4) xyxy each, same shape.

    Returns:
        A float, or (N,) float64.
    """
    a, b = metrics._to_boxes(boxes_a, "boxes_a"), metrics._to_boxes(boxes_b, "boxes_b")
    if a.shape != b.shape:
        raise ValueError(f"expected boxes of one shape, got {a.shape} and {b.shape}.")
    a2, b2 = np.atleast_2d(a), np.atleast_2d(b)
    inter = np.prod(
        np.clip(np.minimum(a2[:, 2:], b2[:, 2:]) - np.maximum(a2[:, :2], b2[:, :2]), 0, None), 1
    )
    union = np.prod(a2[:, 2:] - a2[:, :2], 1) + np.prod(b2[:, 2:] - b2[:, :2], 1) - inter
    hull = np.prod(np.maximum(a2[:, 2:], b2[:, 2:]) - np.minimum(a2[:, :2], b2[:, :2]), 1)
    iou = np.divide(inter, union, out=np.zeros(len(a2)), where=union > 0)
    giou = iou - np.divide(hull - union, hull, out=np.zeros(len(a2)), where=hull > 0)
    return giou if a.ndim == 2 else float(giou[0])


def load_box_arrays(
    split: str, source: str | data.DataSource = "auto", image_size: int = 64,
    limit: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Decode a split once, like ``pipeline.load_arrays``, keeping the head boxes too.

    Args:
        split: a :func:`labutils.data.load_pets` split, e.g. ``data.TRAIN_SPLIT``.
        source: anything ``load_pets`` accepts.
        image_size: side S of the square images and masks.
        limit: keep only the first ``limit`` examples (``None``: all).

    Returns:
        ``images`` uint8 (N, S, S, 3), ``masks`` uint8 (N, S, S, 1) values 0..2 (0 pet,
        1 background, 2 border), ``head_bbox`` float32 (N, 4) as TFDS gives it: yxyx in 0..1,
        zeros where there is no head box.

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


# --- a small single-object detector --------------------------------------------------------


def build_box_detector(
    image_size: int = 64, filters: Sequence[int] = (16, 32, 64, 128), dense: int = 128
) -> keras.Model:
    """A compact CNN that predicts one box and a confidence score per image.

    Each stage is conv 3×3 → batch norm → ReLU → 2×2 max pooling; the last feature map is
    flattened (not averaged: global average pooling would throw away *where* things are)
    and two dense layers give 5 numbers. The box is parameterised so that it is always valid
    and inside the image: per axis, a size ``w = σ(t_w)`` and a position in the room left,
    ``x_min = (1 − w) σ(t_x)``, ``x_max = x_min + w``. The score is ``σ(t_s)``.
    Taught in notebooks/07_detection.ipynb, section 2.

    Args:
        image_size: side S of the square float images in [0, 1] (divisible by 2^len(filters)).
        filters: channels of each stage.
        dense: units of the hidden dense layer.

    Returns:
        An uncompiled ``keras.Model``: (B, S, S, 3) → (B, 5) float32, ``[x_min, y_min, x_max,
        y_max, score]``, the box normalised to 0..1.

    Raises:
        ValueError: an image size that the stages cannot halve evenly.
    """
    if image_size % 2 ** len(filters):
        raise ValueError(
            f"image_size {image_size} must be divisible by 2^{len(filters)} = "
            f"{2 ** len(filters)} (one halving per stage); try 64 or 128."
        )
    inputs = keras.Input((image_size, image_size, 3), name="images")
    x = inputs
    for n in filters:
        x = layers.Conv2D(n, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.MaxPooling2D()(layers.ReLU()(x))
    x = layers.Dense(dense, activation="relu")(layers.Flatten()(x))
    raw = layers.Dense(5, name="raw")(layers.Dropout(0.2)(x))  # t_x, t_y, t_w, t_h, t_score
    return keras.Model(inputs, layers.Lambda(_decode_outputs, name="box_and_score")(raw),
                       name="box_detector")  # fmt: skip


def _decode_outputs(raw: tf.Tensor) -> tf.Tensor:
    """(B, 5) raw outputs → (B, 5) ``[x_min, y_min, x_max, y_max, score]`` (see the builder)."""
    position, size = ops.sigmoid(raw[:, 0:2]), ops.sigmoid(raw[:, 2:4])
    low = (1.0 - size) * position  # (B, 2): x_min, y_min
    return ops.concatenate([low, low + size, ops.sigmoid(raw[:, 4:5])], axis=1)


def _iou_terms(y_true: tf.Tensor, y_pred: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """IoU, union and enclosing-box area of (B, 4+) true and predicted xyxy boxes, each (B,)."""
    t, p = ops.cast(y_true[:, :4], "float32"), ops.cast(y_pred[:, :4], "float32")
    wh = ops.maximum(ops.minimum(t[:, 2:], p[:, 2:]) - ops.maximum(t[:, :2], p[:, :2]), 0.0)
    inter = wh[:, 0] * wh[:, 1]
    area = lambda b: (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])  # noqa: E731
    union = area(t) + area(p) - inter
    hull_wh = ops.maximum(t[:, 2:], p[:, 2:]) - ops.minimum(t[:, :2], p[:, :2])
    return inter / ops.maximum(union, 1e-7), union, hull_wh[:, 0] * hull_wh[:, 1]


def l1_box_loss(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
    """Mean absolute error of the four coordinates: (B, 4) truth, (B, 4+) prediction → (B,)."""
    diff = ops.cast(y_true[:, :4], "float32") - ops.cast(y_pred[:, :4], "float32")
    return ops.mean(ops.abs(diff), axis=1)


def iou_box_loss(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
    """1 − IoU of each true and predicted box: (B, 4), (B, 4+) → (B,) in [0, 1]."""
    return 1.0 - _iou_terms(y_true, y_pred)[0]


def giou_box_loss(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
    """1 − GIoU of each true and predicted box: (B, 4), (B, 4+) → (B,) in [0, 2)."""
    iou, union, hull = _iou_terms(y_true, y_pred)
    return 1.0 - iou + (hull - union) / ops.maximum(hull, 1e-7)


def mean_box_iou(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
    """A Keras metric: the IoU of each predicted box with its true box, (B,)."""
    return _iou_terms(y_true, y_pred)[0]


_BOX_LOSSES = {"l1": l1_box_loss, "iou": iou_box_loss, "giou": giou_box_loss}


def detection_loss(box_loss: str = "giou") -> Callable[[tf.Tensor, tf.Tensor], tf.Tensor]:
    """The detector's loss: a box loss plus the score's cross-entropy against the box's IoU.

    The score learns to predict how good its own box is (the IoU, held constant, as YOLO's
    confidence does), so detections can be ranked for the precision–recall curve.

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
    metrics._to_boxes(boxes, "boxes")  # finite, x_max >= x_min
    if boxes.min() < 0 or boxes.max() > 1:
        raise ValueError("boxes must be normalised to 0..1: divide pixels by the image side.")
    ds = tf.data.Dataset.from_tensor_slices((images, boxes))
    if shuffle:
        ds = ds.shuffle(len(images), reshuffle_each_iteration=True)
    ds = ds.batch(batch_size).map(lambda x, b: (tf.cast(x, tf.float32) / 255.0, b))
    if augment:
        ds = ds.map(_flip_left_right, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


# --- scoring detections: precision, recall, AP ----------------------------------------------


def _per_image(boxes: object, name: str, width: int) -> list[np.ndarray]:
    """Boxes (width 4) or scores (width 0) per image: a list of (K_i, 4) / (K_i,) arrays."""
    if isinstance(boxes, np.ndarray) and boxes.ndim == (2 if width else 1):
        boxes = list(boxes[:, None])  # one per image
    out = []
    for i, item in enumerate(boxes):
        array = np.asarray(item, dtype=np.float64)
        array = array.reshape(-1, width) if width else array.reshape(-1)
        if width and array.size and not np.all(np.isfinite(array)):
            raise ValueError(f"{name}[{i}] contains NaN or infinity: expected finite boxes.")
        if width and array.size and np.any(array[:, 2:] < array[:, :2]):
            raise ValueError(
                f"{name}[{i}] has a box with x_max < x_min or y_max < y_min: expected xyxy "
                "boxes (convert yxyx with yxyx_to_xyxy)."
            )
        out.append(array)
    return out


def _check_inputs(
    true_boxes: object, pred_boxes: object, scores: object
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
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
            ious = np.atleast_2d(metrics.box_iou(dt[order], gt)).reshape(len(order), len(gt))
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
    Taught in notebooks/07_detection.ipynb, section 4.

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
    detections per image.

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

    Args and Raises: as :func:`precision_recall_curve`.

    Returns:
        AP in [0, 1] (``stats[0]`` of pycocotools' ``COCOeval.summarize`` for one class).
    """
    per_threshold = [
        average_precision(true_boxes, pred_boxes, scores, t) for t in COCO_IOU_THRESHOLDS
    ]
    return float(np.mean(per_threshold))


# --- instances: several pets in one picture --------------------------------------------------


def _largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 8-connected blob of a bool mask (drops crumbs left by resizing)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), 8)
    if count <= 2:
        return mask
    return labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))


def _cut_out_pet(index: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic scene ``index``'s pet cropped to its box and scaled to ``height`` rows."""
    from labutils import synthetic  # only this function needs the generator

    scene = synthetic.make_scene(index)
    pet = scene["segmentation_mask"][..., 0] == 1  # (H, W) bool: pet pixels, no border
    x0, y0, x1, y1 = mask_to_box(pet).astype(int)
    width = max(1, round((x1 - x0) * height / (y1 - y0)))
    image = cv2.resize(scene["image"][y0:y1, x0:x1], (width, height), interpolation=cv2.INTER_AREA)
    mask = cv2.resize(pet[y0:y1, x0:x1].astype(np.uint8), (width, height), cv2.INTER_NEAREST)
    return image, _largest_component(mask.astype(bool))


def _touching_offset(placed: np.ndarray, pet: np.ndarray, start: int) -> int:
    """The column, sliding left from ``start``, where ``pet`` first overlaps ``placed`` a bit."""
    h, w = pet.shape
    for x0 in range(start, -1, -1):
        overlap = (placed[-h:, x0 : x0 + w] & pet).sum()
        if overlap >= 0.03 * pet.sum():
            return x0
    return 0


def make_multi_pet_scene(
    index: int, num_pets: int = 2, touching: bool = False, size: tuple[int, int] = (160, 320)
) -> dict[str, np.ndarray]:
    """Put the pets of synthetic scenes ``index``, ``index + 1``, … side by side in one picture.

    Taught in notebooks/07_detection.ipynb, section 5 (instances).

    Args:
        index: the first synthetic scene to take a pet from (0 or more).
        num_pets: how many pets, 2 or more.
        touching: slide each pet against the one before until they overlap a little (the later
            pet hides part of the earlier one); otherwise leave a gap between their boxes.
        size: (height, width) of the picture.

    Returns:
        ``image`` uint8 (H, W, 3); ``instances`` uint8 (H, W): 0 background, k for pet k
        (1..num_pets, left to right); ``semantic`` uint8 (H, W): 0 pet, 1 background (the
        lessons' classes).

    Raises:
        ValueError: fewer than 2 pets, or a negative index.
    """
    if num_pets < 2 or index < 0:
        raise ValueError(f"expected num_pets >= 2 and index >= 0, got {num_pets} and {index}.")
    height, width = size
    pets = [_cut_out_pet(index + k, int(0.75 * height)) for k in range(num_pets)]
    gap = int(0.06 * width)
    strip_width = sum(m.shape[1] for _, m in pets) + gap * num_pets
    strip = np.zeros((pets[0][1].shape[0], strip_width, 3), np.uint8)  # the pets in a row
    ids = np.zeros(strip.shape[:2], np.uint8)
    x = 0
    for k, (pet_image, pet_mask) in enumerate(pets, start=1):
        if touching and k > 1:
            x = _touching_offset(ids > 0, pet_mask, x)
        w = pet_mask.shape[1]
        strip[:, x : x + w][pet_mask], ids[:, x : x + w][pet_mask] = pet_image[pet_mask], k
        x += w + gap
    used = int(np.flatnonzero(ids.any(axis=0))[-1]) + 1
    scale = min(1.0, 0.94 * width / used)
    h, w = max(1, round(ids.shape[0] * scale)), max(1, round(used * scale))
    strip = cv2.resize(strip[:, :used], (w, h), interpolation=cv2.INTER_AREA)
    ids = cv2.resize(ids[:, :used], (w, h), interpolation=cv2.INTER_NEAREST)
    rng = np.random.default_rng(index)
    left, right = rng.uniform(60, 200, 3), rng.uniform(60, 200, 3)
    image = left + (right - left) * np.linspace(0, 1, width)[None, :, None] * np.ones(
        (height, 1, 1)
    )
    instances = np.zeros((height, width), np.uint8)
    y0, x0 = height - h - int(0.05 * height), (width - w) // 2
    image[y0 : y0 + h, x0 : x0 + w][ids > 0] = strip[ids > 0]
    instances[y0 : y0 + h, x0 : x0 + w] = ids
    semantic = np.where(instances > 0, 0, 1).astype(np.uint8)
    return {"image": image.astype(np.uint8), "instances": instances, "semantic": semantic}
