"""The two mask validators of labutils: class-label masks and binary masks.

Every function that takes a mask checks it here, so a wrong mask gets the same clear message
wherever it goes in: the shape that came and the one expected, labels out of range (with the
trimap's ``mask - 1`` fix), probabilities or bilinear-resized values where labels were
expected. Label masks are taught in lesson 03, §3 "What do the mask values mean?"; binary
masks in lesson 01, §5 "Mask algebra".

>>> as_label_mask([[0, 1], [2, 1]]).dtype
dtype('int64')
>>> as_binary_mask([[0, 1], [1, 1]]).sum()
np.int64(3)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labutils.vocabulary import NUM_CLASSES

__all__ = ["as_binary_mask", "as_label_mask"]

#: How each accepted rank is described in messages, for label and for binary masks.
_LABEL_SHAPES = {
    2: "a mask of shape (H, W) or (H, W, 1)",
    3: "a batch of masks (N, H, W)",
    (2, 3): "one mask (H, W) or masks (N, H, W)",
}
_BINARY_SHAPES = {**_LABEL_SHAPES, 2: "an (H, W) binary mask"}
_TWICE_HINT = " Was 1 subtracted twice? Subtract 1 from the trimap (1..3) exactly once."
_OTHER_HINT = " Is num_classes right?"
_TRIMAP_HINT = (
    " Is this a raw trimap (1..3)? Subtract 1 first: mask - 1 (subtract 1 exactly once; "
    "twice gives -1)."
)


def as_label_mask(
    mask: Any,
    name: str = "mask",
    num_classes: int | None = NUM_CLASSES,
    ndim: int | tuple[int, ...] | None = 2,
) -> np.ndarray:
    """Return ``mask`` as int64 class labels in ``[0, num_classes)``, or raise ValueError.

    Taught in lesson 03, §3 "What do the mask values mean?"; every labutils function that
    takes a label mask (metrics, pictures, the pipeline) checks it here.

    Args:
        mask: labels, bool or whole-number floats; a trailing channel of 1 is dropped.
        name: what the caller calls it, for the message.
        num_classes: number of classes C; None checks only that the labels are whole.
        ndim: the rank expected after dropping the channel: 2 for (H, W), 3 for (N, H, W),
            a tuple for either, None for any.

    >>> as_label_mask(np.ones((2, 2, 1))).shape
    (2, 2)
    >>> as_label_mask([[1, 2], [3, 3]])
    Traceback (most recent call last):
    ValueError: mask has labels from 1 to 3: expected labels in [0, 3), ... mask - 1 ...
    >>> as_label_mask([[-1, 0], [1, 1]])
    Traceback (most recent call last):
    ValueError: mask has labels from -1 to 1: ... Was 1 subtracted twice? ...
    """
    array = _array(mask, name, ndim, _LABEL_SHAPES)
    if array.dtype == bool:
        array = array.astype(np.int64)
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise ValueError(f"{name} has dtype {array.dtype}: expected integer class labels.")
    if np.issubdtype(array.dtype, np.floating):
        _check_whole(array, name, num_classes)
    labels = array.astype(np.int64)
    low, high = labels.min(), labels.max()
    if num_classes is not None and (low < 0 or high >= num_classes):
        raw_trimap = low >= 1 and high == num_classes
        shifted_twice = low == -1 and high <= num_classes - 2
        hint = _TRIMAP_HINT if raw_trimap else _TWICE_HINT if shifted_twice else _OTHER_HINT
        raise ValueError(
            f"{name} has labels from {low} to {high}: expected labels in [0, {num_classes}), "
            f"i.e. 0..{num_classes - 1} (num_classes={num_classes}).{hint}"
        )
    return labels


def as_binary_mask(
    mask: Any,
    name: str = "mask",
    ndim: int | tuple[int, ...] = 2,
    drop_channel: bool = True,
    require_object: bool = False,
) -> np.ndarray:
    """Return ``mask`` (bool, or 0 = background and 1 = object) as a bool array, or raise.

    Taught in lesson 01, §5 "Mask algebra: area, logic, boxes"; the box functions of lesson
    07, the IoU playground of lesson 02 and the checkers use it.

    Args:
        mask: the mask; with ``drop_channel`` a trailing channel of 1 is dropped.
        name: what the caller calls it, for the message.
        ndim: the rank expected: 2 for (H, W), 3 for (N, H, W), a tuple for either.
        drop_channel: False to refuse (H, W, 1) with the fix, for exercises where the
            student's array must be exactly (H, W).
        require_object: whether at least one pixel must be set.

    >>> as_binary_mask([[0, 2]])
    Traceback (most recent call last):
    ValueError: mask holds values [0, 2]: expected a binary mask (bool, or 0 = ... mask == k, ...
    """
    array = np.asarray(mask)
    if not drop_channel and array.ndim == 3 and array.shape[-1] == 1 and 3 not in _ranks(ndim):
        raise ValueError(
            f"{name} must be a 2-D (H, W) mask, got shape {array.shape}; "
            "drop a trailing channel axis with mask[..., 0]."
        )
    array = _array(array, name, ndim, _BINARY_SHAPES)
    if array.dtype != bool and not np.isin(array, (0, 1)).all():
        raise ValueError(
            f"{name} holds values {np.unique(array)[:6].tolist()}: expected a binary mask "
            "(bool, or 0 = background and 1 = object); from class labels make one first, "
            "e.g. mask == k, or masks != 1 for not-background."
        )
    if require_object and not array.any():
        raise ValueError(f"{name} has no object pixels: expected at least one pixel set.")
    return array.astype(bool)


def _ranks(ndim: int | tuple[int, ...] | None) -> tuple[int, ...]:
    return ndim if isinstance(ndim, tuple) else (() if ndim is None else (ndim,))


def _array(mask: Any, name: str, ndim: int | tuple[int, ...] | None, shapes: dict) -> np.ndarray:
    """``mask`` as a non-empty array of an accepted rank, a trailing channel of 1 dropped."""
    array = np.asarray(mask)
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}): expected at least one pixel.")
    if array.ndim >= 2 and array.shape[-1] == 1:
        array = array[..., 0]
    if ndim is not None and array.ndim not in _ranks(ndim):
        raise ValueError(
            f"{name} has shape {np.shape(mask)}: expected {shapes.get(ndim, f'rank {ndim}')}."
        )
    return array


def _check_whole(array: np.ndarray, name: str, num_classes: int | None) -> None:
    """Refuse NaN and fractional labels: probabilities, or a mask resized bilinearly."""
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinity: expected integer class labels.")
    fractional = array[array != np.round(array)]
    if fractional.size:
        classes = "C" if num_classes is None else f"C = {num_classes}"
        raise ValueError(
            f"{name} holds non-integer values such as {fractional.flat[0]:.3g}: it looks like "
            f"probabilities (pass labels, or scores with a trailing class axis of length "
            f"{classes}; threshold one sigmoid channel: probs > 0.5) or a mask resized with "
            "bilinear interpolation (resize masks with method='nearest')."
        )
