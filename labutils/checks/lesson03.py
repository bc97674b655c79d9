"""Checkers of lesson 03, "Exploring the Oxford-IIIT Pet dataset": a baseline's accuracy,
resizing a mask, and the order of the input pipeline's steps."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from labutils.checks.verdict import (
    FUNCTION,
    NUMBER,
    Exercise,
    Kind,
    Problem,
    Verdict,
    describe_error,
    diagnose,
    is_close,
    judge,
)
from labutils.vocabulary import CLASS_NAMES, NUM_CLASSES

__all__ = ["check_background_accuracy", "check_pipeline_order", "check_resize_mask"]

_PET, _BACKGROUND, _BORDER = (CLASS_NAMES.index(name) for name in ("pet", "background", "border"))
_ALL_BACKGROUND = Exercise(
    "Exercise 1 (the all-background model)",
    f"accuracy = correct pixels / all pixels, over all images; background is class {_BACKGROUND}.",
)
_RESIZING = Exercise(
    "Exercise 2 (resizing a mask)",
    "look at the `method` argument of tf.image.resize: which method only copies pixels?",
)
_PIPELINE_ORDER = Exercise(
    "Exercise 3 (pipeline order)",
    "ask of each step: what must already have happened for it to do its job only once?",
)
_PIPELINE_STEPS = ("map", "cache", "shuffle", "batch", "prefetch")


def check_background_accuracy(answer: Any, pixel_counts: Any) -> Verdict:
    """Check the pixel accuracy of a model that answers "background" everywhere.

    Exercise of lesson 03, §4 "What is in the data".

    Args:
        answer: one number, a fraction in [0, 1]; ``None`` when not answered yet.
        pixel_counts: (N, NUM_CLASSES) pixels of each class (pet, background, border) in each
            of N images.

    Returns:
        Whether the accuracy is right (relative tolerance 1e-4); prints the verdict and a hint.

    >>> check_background_accuracy(0.6, [[20, 60, 20]])
    ✅ Exercise 1 (the all-background model): correct.
    Verdict(passed=True)
    """
    return judge(
        _ALL_BACKGROUND, answer, NUMBER, lambda x: _background_accuracy_problem(x, pixel_counts)
    )


def _background_accuracy_problem(value: float, pixel_counts: Any) -> Problem:
    """What is wrong with ``value`` as the all-background model's accuracy, or None."""
    counts = np.atleast_2d(np.asarray(pixel_counts, dtype=np.float64))  # (N, NUM_CLASSES)
    right = counts[:, _BACKGROUND].sum() / counts.sum()
    shares = counts.sum(axis=0) / counts.sum()
    mistakes = [
        (100 * right, "that is a percentage; give a fraction between 0 and 1."),
        (
            np.mean(counts[:, _BACKGROUND] / counts.sum(axis=1)),
            "that is the mean of per-image accuracies; pixel accuracy pools all pixels.",
        ),
        (shares[_PET], f"that is the share of pet pixels (class {_PET}), not of background."),
        (
            shares[_BORDER],
            f"that is the share of border pixels (class {_BORDER}), not of background.",
        ),
    ]
    otherwise = "that is not the accuracy of that model."
    return diagnose(value, right, mistakes, otherwise, is_close)


def _test_trimap() -> np.ndarray:
    """A (45, 61, 1) uint8 mask like a trimap: background, a wide border band, a pet inside."""
    mask = np.full((45, 61, 1), _BACKGROUND, dtype=np.uint8)
    mask[4:41, 5:56] = _BORDER
    mask[14:31, 16:45] = _PET
    return mask


def _invented_labels(source: np.ndarray, result: np.ndarray) -> int:
    """Count result pixels whose label occurs nowhere near the matching place in ``source``."""
    (height, width), (rows, cols) = source.shape[:2], result.shape[:2]
    reach_y, reach_x = math.ceil(height / rows), math.ceil(width / cols)
    invented = 0
    for (i, j), label in np.ndenumerate(result[..., 0]):
        y, x = round((i + 0.5) * height / rows), round((j + 0.5) * width / cols)
        window = source[max(y - reach_y, 0) : y + reach_y, max(x - reach_x, 0) : x + reach_x]
        invented += label not in window
    return invented


def _resize_problem(
    resize_mask: Callable[[Any, tuple[int, int]], Any], size: tuple[int, int]
) -> str | None:
    """What is wrong with ``resize_mask`` resizing the test trimap to ``size``, or ``None``."""
    source = _test_trimap()
    try:
        result = np.asarray(resize_mask(source, size))
    except Exception as error:  # the student's code: report it, don't crash the checker
        return f"resizing a (45, 61, 1) uint8 mask to {size}, it raised {describe_error(error)}."
    values = np.unique(result)
    if result.shape != (*size, 1):
        return f"for size {size} it returned shape {result.shape}; expected {(*size, 1)}."
    if not set(values.tolist()) <= set(range(NUM_CLASSES)):
        return (
            f"the result holds values {values[:6].tolist()}, which are not labels "
            f"0..{NUM_CLASSES - 1}."
        )
    if invented := _invented_labels(source, result):
        return (
            f"resized to {size}, {invented} pixels hold a label found nowhere near them in the "
            "input (e.g. background between pet and border), as rounded interpolations do."
        )
    return None


def check_resize_mask(resize_mask: Callable[[Any, tuple[int, int]], Any] | None) -> Verdict:
    """Check a function that resizes a mask without inventing labels.

    Exercise of lesson 03, §6 "Resizing: a mask is not an image".

    Args:
        resize_mask: the student's ``resize_mask(mask, size)``, taking a (H, W, 1) uint8 mask
            and ``size = (height, width)``; ``None`` when not answered yet.

    Returns:
        Whether, shrinking and enlarging a test trimap, it returns (height, width, 1) masks
        whose every label is copied from the matching neighbourhood of the input (nearest
        neighbour or an equivalent); prints the verdict and a hint.

    >>> def nearest(mask, size):  # the row and column of the input nearest each output pixel
    ...     rows = (np.arange(size[0]) + 0.5) * mask.shape[0] // size[0]
    ...     cols = (np.arange(size[1]) + 0.5) * mask.shape[1] // size[1]
    ...     return mask[rows.astype(int)][:, cols.astype(int)]
    >>> check_resize_mask(nearest)
    ✅ Exercise 2 (resizing a mask): correct.
    Verdict(passed=True)
    """
    return judge(_RESIZING, resize_mask, FUNCTION, _shrink_and_enlarge_problem)


def _shrink_and_enlarge_problem(resize_mask: Callable[[Any, tuple[int, int]], Any]) -> str | None:
    """What is wrong with ``resize_mask`` shrinking the test trimap, then enlarging it, or None."""
    return _resize_problem(resize_mask, (18, 24)) or _resize_problem(resize_mask, (100, 130))


def _as_steps(answer: Any) -> list[str] | None:
    """The pipeline's step names, lower-case and stripped, when they are each step once."""
    try:
        order = [str(step).strip().lower() for step in answer]
    except TypeError:
        return None
    return order if sorted(order) == sorted(_PIPELINE_STEPS) else None


_STEPS = Kind(f"each of {list(_PIPELINE_STEPS)} once", _as_steps)


def check_pipeline_order(steps: Sequence[str] | None) -> Verdict:
    """Check the order of the tf.data steps of a training pipeline.

    Exercise of lesson 03, §8 "The input pipeline".

    Args:
        steps: the names "map", "cache", "shuffle", "batch", "prefetch" in the student's
            order; ``None`` when not answered yet.

    Returns:
        Whether the order is map → cache → shuffle → batch → prefetch; prints the verdict and
        the first misplaced step's consequence.

    >>> check_pipeline_order(["map", "cache", "batch", "shuffle", "prefetch"])
    ❌ Exercise 3 (pipeline order): shuffling after batch moves whole batches: the same images
       stay together.
       Hint: ask of each step: what must already have happened for it to do its job only once?
    Verdict(passed=False)
    """
    return judge(_PIPELINE_ORDER, steps, _STEPS, _pipeline_order_problem)


def _pipeline_order_problem(order: list[str]) -> Problem:
    """The consequence of the first step out of place in ``order``, or None."""
    position = {step: order.index(step) for step in order}
    rules = [  # (must come first, then, what goes wrong otherwise)
        ("map", "cache", "caching before map keeps full-size photos: resizing runs every epoch."),
        ("cache", "shuffle", "caching after shuffle freezes the first epoch's order for all."),
        ("shuffle", "batch", "shuffling after batch moves whole batches: the same images stay "
         "together."),
        ("batch", "prefetch", "prefetch goes last, so that whole ready batches wait for the "
         "model."),
    ]  # fmt: skip
    return next((why for first, then, why in rules if position[first] > position[then]), None)
