"""Checkers of lesson 01, "What is a mask?": a mask's box, two masks' disagreement, a masked mean.

Masks are read by :func:`labutils.mask_inputs.as_binary_mask`, which refuses an (H, W, 1) mask with
the ``mask[..., 0]`` fix: the exercises work on (H, W) masks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labutils.checks.verdict import (
    NUMBER,
    Exercise,
    Problem,
    Verdict,
    diagnose,
    is_close,
    judge,
    numbers,
)
from labutils.mask_inputs import as_binary_mask

__all__ = ["check_mask_box", "check_mask_disagreement", "check_masked_mean"]

_BOUNDING_BOX = Exercise(
    "Exercise 1 (bounding box)",
    "np.any(mask, axis=1) says which rows hold a True pixel; np.flatnonzero gives indices.",
)
_DISAGREEING = Exercise(
    "Exercise 2 (disagreeing pixels)",
    "A pixel disagrees when exactly one of the two masks is True: which operator is that?",
)
_MASKED_MEAN = Exercise(
    "Exercise 3 (masked mean loss)",
    "Sum the losses of the kept pixels and divide by how many pixels are kept.",
)
_BOX = numbers("4 numbers (x_min, y_min, x_max, y_max)", count=4)


def check_mask_box(answer: Any, mask: Any) -> Verdict:
    """Check the bounding box of a mask's True pixels.

    Exercise of lesson 01, §5 "Mask algebra: area, logic, boxes".

    The box is ``(x_min, y_min, x_max, y_max)`` in continuous pixel coordinates, like
    keras-cv and ``labutils.bbox.box_iou``: pixel column ``i`` spans ``[i, i + 1)``, so
    ``x_max`` is the last True column plus one and ``mask[y_min:y_max, x_min:x_max]`` is the
    crop the box covers.

    Args:
        answer: four integers; ``None`` when not answered yet.
        mask: (H, W) bool or 0/1 array.

    Returns:
        Whether the box is right; prints the verdict and a hint.

    Raises:
        ValueError: if ``mask`` is not an (H, W) binary mask.

    >>> mask = np.zeros((4, 4), bool)
    >>> mask[1:3, 2] = True  # rows 1 and 2 of column 2
    >>> check_mask_box((2, 1, 3, 3), mask)
    ✅ Exercise 1 (bounding box): correct.
    Verdict(passed=True)
    """
    return judge(_BOUNDING_BOX, answer, _BOX, lambda box: _mask_box_problem(box, mask))


def _mask_box_problem(box: np.ndarray, mask: Any) -> Problem:
    """What is wrong with the box ``box`` (4 numbers) of ``mask``, or None."""
    ys, xs = np.nonzero(as_binary_mask(mask, "mask", drop_channel=False))
    if ys.size == 0:
        return "this mask has no True pixel, so no box.", "Pick another image."
    x0, y0, x1, y1 = right = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    mistakes = [
        ((y0, x0, y1, x1), "x and y are swapped: x counts columns (axis 1), y rows (axis 0)."),
        (
            (x0, y0, x1 - 1, y1 - 1),
            "x_max and y_max stop at the last True pixel; the box's edge lies one further.",
        ),
        (
            (x0, y0, x1 - x0, y1 - y0),
            "that is (x, y, width, height), not (x_min, y_min, x_max, y_max).",
        ),
    ]
    names = ("x_min", "y_min", "x_max", "y_max")
    wrong = ", ".join(n for n, a, b in zip(names, box, right, strict=True) if a != b)
    return diagnose(box, right, mistakes, f"wrong: {wrong}.", np.array_equal)


def check_mask_disagreement(answer: Any, mask_a: Any, mask_b: Any) -> Verdict:
    """Check the number of pixels where two masks disagree (True in one, False in the other).

    Exercise of lesson 01, §5 "Mask algebra: area, logic, boxes".

    Args:
        answer: a count of pixels; ``None`` when not answered yet.
        mask_a, mask_b: (H, W) bool or 0/1 arrays of the same shape.

    Returns:
        Whether the count is right; prints the verdict and a hint.

    Raises:
        ValueError: if the masks are not (H, W) binary masks or differ in shape.

    >>> check_mask_disagreement(2, [[1, 1, 0]], [[0, 1, 1]])
    ✅ Exercise 2 (disagreeing pixels): correct.
    Verdict(passed=True)
    """
    return judge(_DISAGREEING, answer, NUMBER, lambda n: _disagreement_problem(n, mask_a, mask_b))


def _disagreement_problem(count: float, mask_a: Any, mask_b: Any) -> Problem:
    """What is wrong with ``count`` disagreeing pixels between two masks, or None."""
    a = as_binary_mask(mask_a, "mask_a", drop_channel=False)
    b = as_binary_mask(mask_b, "mask_b", drop_channel=False)
    if a.shape != b.shape:
        raise ValueError(f"the masks must have one shape, got {a.shape} and {b.shape}.")
    mistakes = [
        ((a & ~b).sum(), "that counts only the pixels True in mask_a alone."),
        ((b & ~a).sum(), "that counts only the pixels True in mask_b alone."),
        (abs(a.sum() - b.sum()), "that is the difference of the areas: errors cancel out."),
        ((a & b).sum(), "that counts where both masks are True, i.e. where they agree."),
    ]
    otherwise = "that is not the number of disagreeing pixels."
    return diagnose(count, (a ^ b).sum(), mistakes, otherwise, np.equal)


def check_masked_mean(answer: Any, pixel_losses: Any, keep: Any) -> Verdict:
    """Check the mean of per-pixel losses over the pixels a mask keeps.

    Exercise of lesson 01, §6 "Masks elsewhere in deep learning".

    Args:
        answer: one number; ``None`` when not answered yet.
        pixel_losses: (H, W) float array of per-pixel losses.
        keep: (H, W) bool or 0/1 array, True where a pixel counts; at least one True.

    Returns:
        Whether the mean is right (relative tolerance 1e-4); prints the verdict and a hint.

    Raises:
        ValueError: if ``keep`` is not an (H, W) binary mask, the arrays differ in shape, or
            ``keep`` keeps no pixel.

    >>> check_masked_mean(1.5, [[1.0, 2.0, 9.0]], [[True, True, False]])
    ✅ Exercise 3 (masked mean loss): correct.
    Verdict(passed=True)
    """
    return judge(
        _MASKED_MEAN, answer, NUMBER, lambda value: _masked_mean_problem(value, pixel_losses, keep)
    )


def _masked_mean_problem(value: float, pixel_losses: Any, keep: Any) -> Problem:
    """What is wrong with ``value`` as the mean of the kept losses, or None."""
    losses = np.asarray(pixel_losses, dtype=np.float64)
    keep = as_binary_mask(keep, "keep", drop_channel=False)
    if losses.shape != keep.shape or not keep.any():
        raise ValueError(
            f"expected pixel_losses and keep of one shape, keeping at least one pixel; got "
            f"shapes {losses.shape} and {keep.shape} with {keep.sum()} pixels kept."
        )
    kept_sum, dropped = losses[keep].sum(), losses[~keep]
    mistakes = [
        (losses.mean(), "that is the mean over all pixels: the ignored ones still count."),
        (kept_sum / losses.size, "that divides by all pixels (as Keras' default reduction does)."),
        (dropped.mean() if dropped.size else np.nan, "that averages the ignored pixels instead."),
    ]
    otherwise = "that is not the mean loss over the kept pixels."
    return diagnose(value, kept_sum / keep.sum(), mistakes, otherwise, is_close)
