"""Bounding boxes: check, compare (IoU, GIoU), read from VOC files, convert from yxyx.

Boxes are ``(x_min, y_min, x_max, y_max)`` ("xyxy") in continuous coordinates, as in keras-cv:
pixel column ``i`` spans ``[i, i + 1)``, so a mask's box ends one past its last pixel. Boxes are
either in pixels or *normalised*, in 0..1 of the image's width and height; IoU is the same in
both. TFDS's ``head_bbox`` is ``[y_min, x_min, y_max, x_max]`` ("yxyx"), all zeros when absent:
:func:`yxyx_to_xyxy` converts it. Taught in lesson 07 (box IoU in §1, "Boxes in the data").
Between boxes and masks: :mod:`labutils.box_masks`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from labutils.metrics import iou_from_counts

__all__ = [
    "as_boxes",
    "box_area",
    "box_giou",
    "box_iou",
    "read_voc_box",
    "yxyx_to_xyxy",
]


def as_boxes(boxes: ArrayLike, name: str = "boxes") -> np.ndarray:
    """Check one ``(4,)`` box or ``(N, 4)`` boxes, xyxy, and return them as float64.

    The one box validator: :func:`box_iou`, the detector's dataset and the detection scores
    use it, so a bad box gets the same message everywhere. Used in lesson 07, §2 "A detector
    trained in the lesson" (through ``box_detector.make_box_dataset``).

    >>> as_boxes([0, 0, 2, 1]).dtype
    dtype('float64')
    >>> as_boxes([2, 0, 0, 1])
    Traceback (most recent call last):
    ValueError: boxes has a box with x_max < x_min or y_max < y_min: [2.0, 0.0, 0.0, 1.0]. ...

    Args:
        boxes: ``(4,)`` or ``(N, 4)`` numbers.
        name: what the caller calls them, for the message.

    Returns:
        float64 of the same shape.

    Raises:
        ValueError: a wrong shape, no boxes, NaN or infinity, or x_max < x_min.
    """
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
            "(x_min, y_min, x_max, y_max): convert yxyx boxes with yxyx_to_xyxy, and "
            "(x, y, w, h) boxes too, first."
        )
    return array


def box_area(boxes: ArrayLike) -> np.ndarray:
    """Area of each xyxy box: (x_max − x_min) (y_max − y_min), over the last axis.

    Taught in lesson 07, §1 "Boxes in the data" (the areas behind the box IoU).

    >>> box_area([[0, 0, 2, 3], [1, 1, 1, 4]]).tolist()
    [6.0, 0.0]

    Args:
        boxes: ``(..., 4)`` xyxy boxes (not checked: see :func:`as_boxes`).

    Returns:
        float64 of the leading shape.
    """
    boxes = np.asarray(boxes, dtype=np.float64)
    return np.prod(boxes[..., 2:] - boxes[..., :2], axis=-1)


def _intersection_and_areas(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, ...]:
    """Intersection area, area of a and area of b, for boxes that broadcast together."""
    sides = np.minimum(a[..., 2:], b[..., 2:]) - np.maximum(a[..., :2], b[..., :2])
    return np.prod(np.clip(sides, 0, None), axis=-1), box_area(a), box_area(b)


def box_iou(boxes_a: ArrayLike, boxes_b: ArrayLike) -> np.ndarray | float:
    """Pairwise IoU of axis-aligned boxes (x_min, y_min, x_max, y_max).

    Coordinates are continuous: a box from x = 0 to x = 10 is 10 wide (no "+1" pixel
    convention), as in keras-cv. A pair whose union has zero area (two zero-area boxes)
    has IoU 0, like any pair that does not overlap.
    Taught in lesson 07, §1 "Boxes in the data" ("Box IoU").

    >>> box_iou([0, 0, 10, 10], [5, 5, 15, 15])  # 25 / (100 + 100 - 25)
    0.14285714285714285
    >>> box_iou(np.zeros((3, 4)), [[0, 0, 1, 1], [0, 0, 2, 2]]).shape
    (3, 2)

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
    a, b = as_boxes(boxes_a, "boxes_a"), as_boxes(boxes_b, "boxes_b")
    pairs = np.atleast_2d(a)[:, None, :], np.atleast_2d(b)[None, :, :]  # (N, 1, 4), (1, M, 4)
    iou = iou_from_counts(*_intersection_and_areas(*pairs), empty=0.0)  # (N, M)
    if a.ndim == 1:
        iou = iou[0]
    if b.ndim == 1:
        iou = iou[..., 0]
    return float(iou) if iou.ndim == 0 else iou


def box_giou(boxes_a: ArrayLike, boxes_b: ArrayLike) -> np.ndarray | float:
    """Generalised IoU (Rezatofighi et al., CVPR 2019) of boxes taken pair by pair.

    GIoU = IoU − |C \\ (A ∪ B)| / |C|, with C the smallest box enclosing A and B; it lies in
    (−1, 1] and, unlike IoU, still says how far apart two disjoint boxes are.
    Taught in lesson 07, §2 "A detector trained in the lesson" (the GIoU loss).

    >>> round(box_giou([0, 0, 1, 1], [2, 0, 3, 1]), 3)  # IoU 0, hull 3, union 2
    -0.333

    Args:
        boxes_a, boxes_b: (4,) or (N, 4) xyxy each, same shape.

    Returns:
        A float, or (N,) float64.

    Raises:
        ValueError: bad boxes (see :func:`as_boxes`), or not the same shape.
    """
    a, b = as_boxes(boxes_a, "boxes_a"), as_boxes(boxes_b, "boxes_b")
    if a.shape != b.shape:
        raise ValueError(f"expected boxes of one shape, got {a.shape} and {b.shape}.")
    a2, b2 = np.atleast_2d(a), np.atleast_2d(b)
    inter, area_a, area_b = _intersection_and_areas(a2, b2)
    union = area_a + area_b - inter
    hull = np.prod(np.maximum(a2[:, 2:], b2[:, 2:]) - np.minimum(a2[:, :2], b2[:, :2]), axis=1)
    iou = iou_from_counts(inter, area_a, area_b, empty=0.0)
    giou = iou - np.divide(hull - union, hull, out=np.zeros(len(a2)), where=hull > 0)
    return giou if a.ndim == 2 else float(giou[0])


def read_voc_box(path: str | Path, normalize: bool = False) -> np.ndarray:
    """Read the first object's box from a PASCAL VOC XML annotation.

    VOC writes 1-based pixel indices; like TFDS, they are used as they are (an offset of under
    one pixel) and, with ``normalize``, divided by the image size written in the file.
    Taught in lesson 07, §1 "Boxes in the data".

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

    Taught in lesson 07, §1 "Boxes in the data".

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
