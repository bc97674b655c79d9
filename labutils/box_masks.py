"""Between boxes and masks: a mask's box, a box painted as a mask, and how well each fits.

Boxes are xyxy with pixel column ``i`` spanning ``[i, i + 1)`` (see :mod:`labutils.bbox`), so a
mask's box ends one past its last pixel. Masks are bool or 0/1, checked by
:func:`labutils.mask_inputs.as_binary_mask`. Taught in lesson 07, §1 "Boxes in the data" and §3
"Boxes from the segmentation model".
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from labutils.bbox import as_boxes, box_area
from labutils.mask_inputs import as_binary_mask
from labutils.metrics import iou_from_counts

__all__ = ["box_mask_iou", "box_to_mask", "fill_ratio", "mask_to_box"]


def _mask_batch(masks: ArrayLike) -> tuple[np.ndarray, bool]:
    """bool (N, H, W) from 0/1 or bool masks (H, W) or (N, H, W), and whether one was given."""
    array = as_binary_mask(masks, "masks", ndim=(2, 3))
    return (array, False) if array.ndim == 3 else (array[None], True)


def _pixel_counts(batch: np.ndarray) -> np.ndarray:
    """(N,) number of True pixels in each mask of a bool (N, H, W) batch."""
    return batch.reshape(len(batch), -1).sum(axis=1)


def mask_to_box(masks: ArrayLike, normalize: bool = False) -> np.ndarray:
    """The tightest box around each mask's True pixels (lesson 02's ``mask_to_box``).

    Taught in lesson 02, §2 "Boxes or pixels: detection vs segmentation" (written there);
    used in lesson 07, §1 "Boxes in the data" and §3 "Boxes from the segmentation model".

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
    batch, single = _mask_batch(masks)
    height, width = batch.shape[1:]
    rows, cols = batch.any(axis=2), batch.any(axis=1)  # (N, H), (N, W)
    boxes = np.stack(
        [cols.argmax(1), rows.argmax(1), width - cols[:, ::-1].argmax(1),
         height - rows[:, ::-1].argmax(1)], axis=1
    ).astype(np.float64)  # fmt: skip
    boxes[~rows.any(axis=1)] = 0.0
    if normalize:
        boxes /= [width, height, width, height]
    return boxes[0] if single else boxes


def box_to_mask(boxes: ArrayLike, height: int, width: int, normalized: bool = False) -> np.ndarray:
    """Paint boxes as masks: a pixel is inside when its centre is.

    Taught in lesson 07, §3 "The other way: a box is a poor mask".

    >>> box_to_mask([1, 0, 3, 1], 2, 4).astype(int).tolist()
    [[0, 1, 1, 0], [0, 0, 0, 0]]

    Args:
        boxes: (4,) or (N, 4) xyxy, in pixels or (``normalized``) in 0..1.
        height, width: the mask's size.
        normalized: the boxes are in 0..1 of the width and height.

    Returns:
        bool (H, W) for one box, (N, H, W) for N.

    Raises:
        ValueError: bad boxes (see :func:`labutils.bbox.as_boxes`).
    """
    array = as_boxes(boxes, "boxes")
    batch = np.atleast_2d(array) * ([width, height] * 2 if normalized else 1)
    xs, ys = np.arange(width) + 0.5, np.arange(height) + 0.5  # pixel centres
    inside_x = (xs >= batch[:, 0:1]) & (xs < batch[:, 2:3])  # (N, W)
    inside_y = (ys >= batch[:, 1:2]) & (ys < batch[:, 3:4])  # (N, H)
    out = inside_y[:, :, None] & inside_x[:, None, :]
    return out if array.ndim == 2 else out[0]


def fill_ratio(masks: ArrayLike) -> np.ndarray | float:
    """How much of a mask's own box is mask: mask area / box area.

    Taught in lesson 07, §1 "Boxes in the data" ("How much of a box is pet?").

    >>> fill_ratio(np.array([[1, 0], [1, 1]]))
    0.75

    Args:
        masks: bool or 0/1, (H, W) or (N, H, W) (or (N, H, W, 1)).

    Returns:
        A float, or (N,) float64, in (0, 1]; NaN for an empty mask.

    Raises:
        ValueError: a wrong shape, or values other than 0/1.
    """
    batch, single = _mask_batch(masks)
    area = box_area(mask_to_box(batch))
    ratio = np.divide(_pixel_counts(batch), area, out=np.full(len(batch), np.nan), where=area > 0)
    return float(ratio[0]) if single else ratio


def box_mask_iou(boxes: ArrayLike, masks: ArrayLike, normalized: bool = False) -> np.ndarray:
    """IoU of each box, painted as a mask (:func:`box_to_mask`), with its mask.

    For a mask's own tight box this equals :func:`fill_ratio` (the box holds the mask).
    Taught in lesson 07, §1 "Boxes in the data"; used in §3 "Boxes from the segmentation model"
    and in lesson 08, §3 "A box as a prompt: GrabCut".

    >>> box_mask_iou([0, 0, 2, 2], np.array([[1, 0], [1, 1]]))
    0.75

    Args:
        boxes: (4,) or (N, 4) xyxy, in pixels or (``normalized``) in 0..1.
        masks: bool or 0/1, (H, W) or (N, H, W), one per box.
        normalized: the boxes are in 0..1 of the masks' width and height.

    Returns:
        A float, or (N,) float64 in [0, 1] (0 when box and mask are both empty).

    Raises:
        ValueError: bad boxes or masks, or not one mask per box.
    """
    batch, single = _mask_batch(masks)
    painted = box_to_mask(np.atleast_2d(boxes), *batch.shape[1:], normalized=normalized)
    if len(painted) != len(batch):
        raise ValueError(
            f"expected one mask per box, got {len(painted)} boxes, {len(batch)} masks."
        )
    counts = _pixel_counts(painted & batch), _pixel_counts(painted), _pixel_counts(batch)
    iou = iou_from_counts(*counts, empty=0.0)
    return float(iou[0]) if single else iou
