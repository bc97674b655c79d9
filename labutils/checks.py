"""Self-checks for the exercises: each ``check_*`` prints what is right or wrong and a hint.

A checker takes the student's answer and returns ``True`` when it is right. An answer of
``None`` (the student edition's stub) prints "not answered yet" with the hint instead of failing,
so every notebook still runs end to end.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from labutils import metrics

__all__ = [
    "check_background_accuracy",
    "check_best_epoch",
    "check_box_iou",
    "check_conv_block",
    "check_conv_parameters",
    "check_down_block",
    "check_mask_box",
    "check_mask_disagreement",
    "check_masked_mean",
    "check_per_class_iou",
    "check_pipeline_order",
    "check_precision",
    "check_receptive_field",
    "check_resize_mask",
    "check_unet",
    "check_unet_output_shape",
    "check_up_block",
    "check_worst_images",
    "not_answered",
    "report",
    "Verdict",
]


class Verdict:
    """A checker's result: true when the answer is right.

    The verdict is printed when it is made, so a notebook cell ending in a check shows the
    message once, not an extra ``True``/``False``.
    """

    def __init__(self, passed: bool) -> None:
        self.passed = passed

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"Verdict(passed={self.passed})"

    def _ipython_display_(self) -> None:
        """Show nothing more in Jupyter: the message was already printed."""


def report(exercise: str, problem: str | None, hint: str) -> Verdict:
    """Print the verdict on one exercise and return it (true when it passed).

    Args:
        exercise: the exercise's name, e.g. ``"Exercise 1 (pixel IoU)"``.
        problem: ``None`` when the answer is right, else what is wrong with it.
        hint: one sentence that helps without giving the answer away.
    """
    if problem is None:
        print(f"✅ {exercise}: correct.")
        return Verdict(True)
    print(f"❌ {exercise}: {problem}\n   Hint: {hint}")
    return Verdict(False)


def not_answered(exercise: str, hint: str) -> Verdict:
    """Report an exercise whose answer is still the stub's ``None`` (a false verdict)."""
    print(f"✏️ {exercise}: not answered yet — replace the None with your code.\n   Hint: {hint}")
    return Verdict(False)


# --- Lesson 02 (IoU) ---------------------------------------------------------------------------


def check_per_class_iou(ious: Any, y_true: Any, y_pred: Any, num_classes: int = 3) -> Verdict:
    """Check lesson 02's exercise 1: the IoU of every class, from the confusion matrix cm.

    Args:
        ious: the student's answer, one IoU per class in class order (``None``: not answered).
        y_true: the exercise's true label mask, e.g. (H, W) int, values 0..num_classes-1.
        y_pred: the exercise's predicted label mask, same shape.
        num_classes: number of classes.

    Returns:
        True when ``ious`` matches ``metrics.iou_per_class`` (relative tolerance 1e-4).
    """
    exercise = "Exercise 1 (per-class IoU)"
    hint = (
        "cm[c, c] is class c's intersection; row c holds its true pixels, column c its "
        "predicted ones, and the union counts the intersection only once."
    )
    if ious is None:
        return not_answered(exercise, hint)
    return report(exercise, _per_class_iou_problem(ious, y_true, y_pred, num_classes), hint)


def _per_class_iou_problem(ious: Any, y_true: Any, y_pred: Any, num_classes: int) -> str | None:
    """Say what is wrong with a per-class IoU answer, or return None when it is right."""
    try:
        answer = np.asarray(ious, dtype=np.float64)
    except (TypeError, ValueError):
        return f"expected {num_classes} numbers, got {type(ious).__name__} {ious!r:.60}."
    cm = metrics.confusion_matrix(y_true, y_pred, num_classes)
    expected = metrics.iou_from_confusion(cm)
    if answer.shape != expected.shape:
        if answer.size == 1 and np.isclose(answer, np.nanmean(expected), rtol=1e-4):
            return "that is the mean IoU; the exercise asks for one IoU per class."
        return f"expected {num_classes} numbers (one per class), got shape {answer.shape}."
    if np.allclose(answer, expected, rtol=1e-4, equal_nan=True):
        return None
    with np.errstate(divide="ignore", invalid="ignore"):  # a class may be absent
        known_mistakes = _per_class_iou_mistakes(cm, expected)
    for problem, wrong in known_mistakes.items():
        if np.allclose(answer, wrong, rtol=1e-4):
            return problem
    wrong_classes = ", ".join(map(str, np.flatnonzero(~np.isclose(answer, expected, rtol=1e-4))))
    return f"wrong for class {wrong_classes}: you have {np.round(answer, 3).tolist()}."


def _per_class_iou_mistakes(cm: np.ndarray, expected: np.ndarray) -> dict[str, np.ndarray]:
    """The usual wrong answers for a confusion matrix ``cm``, keyed by what is wrong."""
    tp = np.diag(cm)
    return {
        "these are Dice values 2|P ∩ G| / (|P| + |G|); IoU divides by the union.": (
            metrics.dice_from_confusion(cm)
        ),
        "the union counts the intersection twice: use |P| + |G| − |P ∩ G|.": (
            tp / (cm.sum(axis=0) + cm.sum(axis=1))
        ),
        "you divided by the true pixels of each class (that is recall), not the union.": (
            tp / cm.sum(axis=1)
        ),
        "you divided by the predicted pixels of each class (precision), not the union.": (
            tp / cm.sum(axis=0)
        ),
        "the classes are in reverse order: entry c must be the IoU of class c.": expected[::-1],
    }


#: Lesson 02's exercise 2 cases: (what they are, box_a, box_b) as (x_min, y_min, x_max, y_max).
_BOX_CASES = (
    ("overlapping boxes", (0, 0, 10, 10), (5, 5, 15, 15)),
    ("a box inside another", (0, 0, 10, 10), (2, 2, 6, 6)),
    ("identical boxes", (3, 1, 9, 4), (3, 1, 9, 4)),
    ("boxes side by side with a gap", (0, 0, 4, 10), (6, 0, 10, 10)),
    ("boxes far apart diagonally", (0, 0, 2, 2), (5, 5, 8, 8)),
    ("boxes touching along an edge", (0, 0, 10, 10), (10, 0, 20, 10)),
    ("a zero-width box (a line) across another", (4, 0, 4, 10), (0, 0, 10, 10)),
    ("a zero-area box (a point) inside another", (0, 0, 10, 10), (5, 5, 5, 5)),
    ("two identical zero-area boxes (their union is 0)", (2, 3, 2, 8), (2, 3, 2, 8)),
)


def check_box_iou(box_iou_fn: Callable[[Any, Any], float] | None) -> Verdict:
    """Check lesson 02's exercise 2: a function returning the IoU of two xyxy boxes.

    Args:
        box_iou_fn: the student's function ``f(box_a, box_b) -> float`` taking two
            ``(x_min, y_min, x_max, y_max)`` tuples (``None``: not answered).

    Returns:
        True when it matches ``metrics.box_iou`` on overlapping, nested, identical, disjoint
        and touching boxes, and on zero-area boxes (IoU 0, also when the union is 0). A function
        that raises gets a message naming the boxes and the error, not a traceback.
    """
    exercise = "Exercise 2 (box IoU)"
    hint = (
        "the intersection spans from the larger of the two minima to the smaller of the two "
        "maxima on each axis; a negative width or height means no overlap, so clamp it at 0; "
        "two zero-area boxes have a union of 0 and IoU 0."
    )
    if box_iou_fn is None:
        return not_answered(exercise, hint)
    if not callable(box_iou_fn):
        return report(exercise, f"expected a function, got {type(box_iou_fn).__name__}.", hint)
    return report(exercise, _box_iou_problem(box_iou_fn), hint)


def _box_iou_problem(box_iou_fn: Callable[[Any, Any], float]) -> str | None:
    """Run the student's box IoU on every case; say what is wrong, or return None."""
    for description, box_a, box_b in _BOX_CASES:
        try:
            got = box_iou_fn(box_a, box_b)
        except Exception as error:  # the student's code: report it, don't crash the checker
            return (
                f"for {description} {box_a} and {box_b} it raised "
                f"{_describe_error(error)}.{_box_iou_raise_diagnosis(error, box_a, box_b)}"
            )
        if np.size(got) != 1 or not np.issubdtype(np.asarray(got).dtype, np.number):
            return f"for {box_a} and {box_b} it returned {got!r:.60}: expected one number."
        expected = metrics.box_iou(box_a, box_b)
        if not np.isclose(float(got), expected, atol=1e-6):
            return (
                f"for {description} {box_a} and {box_b} it returned {float(got):.4f}, "
                f"expected {expected:.4f}.{_box_iou_diagnosis(float(got), box_a, box_b)}"
            )
    return None


def _describe_error(error: Exception) -> str:
    """One line naming an exception the student's code raised (TensorFlow's can be long)."""
    lines = str(error).strip().splitlines()
    message = lines[0] if lines else ""
    message = re.sub(r"^\{\{[^}]*\}\}\s*|\s*\[Op:\w+\]$", "", message)[:200]  # TF's node names
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def _zero_union(box_a: tuple, box_b: tuple) -> bool:
    """Whether two boxes have a union of zero area (both have zero area)."""
    return all((x1 - x0) * (y1 - y0) == 0 for x0, y0, x1, y1 in (box_a, box_b))


def _box_iou_raise_diagnosis(error: Exception, box_a: tuple, box_b: tuple) -> str:
    """Explain an exception raised by the student's box IoU, when it is the usual one."""
    if isinstance(error, ZeroDivisionError) and _zero_union(box_a, box_b):
        return " Both boxes have zero area, so the union is 0: return 0 for such a pair."
    return ""


def _ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, NaN (which matches no answer) when the denominator is 0."""
    return numerator / denominator if denominator else math.nan


def _box_iou_diagnosis(got: float, box_a: tuple, box_b: tuple) -> str:
    """Name the usual mistake that gives ``got`` for these two boxes, or return ''."""
    if math.isnan(got) and _zero_union(box_a, box_b):
        return " Both boxes have zero area, so the union is 0 and 0 / 0 is NaN: return 0 then."
    (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = box_a, box_b
    width, height = min(ax1, bx1) - max(ax0, bx0), min(ay1, by1) - max(ay0, by0)
    area_a, area_b = (ax1 - ax0) * (ay1 - ay0), (bx1 - bx0) * (by1 - by0)
    unclamped = width * height
    plus_one = (width + 1) * (height + 1)
    plus_one_areas = (ax1 - ax0 + 1) * (ay1 - ay0 + 1) + (bx1 - bx0 + 1) * (by1 - by0 + 1)
    mistakes = {
        " Width and height were not clamped at 0: boxes apart give a negative overlap.": (
            _ratio(unclamped, area_a + area_b - unclamped)
        ),
        " The union counts the intersection twice: use area_a + area_b − intersection.": (
            _ratio(max(width, 0) * max(height, 0), area_a + area_b)
        ),
        " That is the '+1' pixel convention; here a box from 0 to 10 is 10 wide.": (
            _ratio(plus_one, plus_one_areas - plus_one)
        ),
    }
    return next((m for m, wrong in mistakes.items() if np.isclose(got, wrong, atol=1e-6)), "")


# --- Lesson 01 (masks) ----------------------------------------------------------------------


def _as_bool_mask(mask: Any, name: str) -> np.ndarray:
    """Return ``mask`` as a 2-D bool array, or raise a ValueError saying what was expected."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D (H, W) mask, got shape {mask.shape}; "
            "drop a trailing channel axis with mask[..., 0]."
        )
    return mask.astype(bool)


def _as_number(answer: Any) -> float | None:
    """Return an answer that is one real number as a float, else ``None``."""
    value = np.asarray(answer)
    if value.size != 1 or not (np.issubdtype(value.dtype, np.number) or value.dtype == bool):
        return None
    return float(value.reshape(()))


def _is_close(x: float, y: float) -> bool:
    """Whether two losses agree to a relative tolerance of 1e-4 (float32 versus float64 sums)."""
    return bool(np.isclose(x, y, rtol=1e-4, atol=0.0))


def _diagnose(
    answer: Any, right: Any, mistakes: list[tuple[Any, str]], otherwise: str, same: Any
) -> str | None:
    """Return None for a right answer, else the text of the first mistake it matches.

    ``mistakes`` pairs the value a known mistake produces with its explanation; ``otherwise``
    is returned when none matches; ``same(x, y)`` decides whether two answers are equal.
    """
    if same(answer, right):
        return None
    return next((text for value, text in mistakes if same(answer, value)), otherwise)


def check_mask_box(answer: Any, mask: Any) -> Verdict:
    """Check the bounding box of a mask's True pixels, as taught in 01_masks.

    The box is ``(x_min, y_min, x_max, y_max)`` in continuous pixel coordinates, like
    keras-cv and ``labutils.metrics.box_iou``: pixel column ``i`` spans ``[i, i + 1)``, so
    ``x_max`` is the last True column plus one and ``mask[y_min:y_max, x_min:x_max]`` is the
    crop the box covers.

    Args:
        answer: four integers; ``None`` when not answered yet.
        mask: (H, W) bool or 0/1 array.

    Returns:
        Whether the box is right; prints the verdict and a hint.

    Raises:
        ValueError: if ``mask`` is not 2-D.
    """
    exercise = "Exercise 1 (bounding box)"
    hint = "np.any(mask, axis=1) says which rows hold a True pixel; np.flatnonzero gives indices."
    if answer is None:
        return not_answered(exercise, hint)
    ys, xs = np.nonzero(_as_bool_mask(mask, "mask"))
    if ys.size == 0:
        return report(exercise, "this mask has no True pixel, so no box.", "Pick another image.")
    box = np.asarray(answer).ravel()
    if box.size != 4 or not np.issubdtype(box.dtype, np.number):
        return report(
            exercise, f"expected 4 numbers (x_min, y_min, x_max, y_max), not {answer!r}.", hint
        )
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
    return report(
        exercise, _diagnose(box, right, mistakes, f"wrong: {wrong}.", np.array_equal), hint
    )


def check_mask_disagreement(answer: Any, mask_a: Any, mask_b: Any) -> Verdict:
    """Check the number of pixels where two masks disagree (True in one, False in the other).

    Args:
        answer: a count of pixels; ``None`` when not answered yet.
        mask_a, mask_b: (H, W) bool or 0/1 arrays of the same shape.

    Returns:
        Whether the count is right; prints the verdict and a hint.

    Raises:
        ValueError: if the masks are not 2-D or differ in shape.
    """
    exercise = "Exercise 2 (disagreeing pixels)"
    hint = "A pixel disagrees when exactly one of the two masks is True: which operator is that?"
    if answer is None:
        return not_answered(exercise, hint)
    a, b = _as_bool_mask(mask_a, "mask_a"), _as_bool_mask(mask_b, "mask_b")
    if a.shape != b.shape:
        raise ValueError(f"the masks must have one shape, got {a.shape} and {b.shape}.")
    count = _as_number(answer)
    if count is None:
        return report(exercise, f"expected one number, got shape {np.shape(answer)}.", hint)
    mistakes = [
        ((a & ~b).sum(), "that counts only the pixels True in mask_a alone."),
        ((b & ~a).sum(), "that counts only the pixels True in mask_b alone."),
        (abs(a.sum() - b.sum()), "that is the difference of the areas: errors cancel out."),
        ((a & b).sum(), "that counts where both masks are True, i.e. where they agree."),
    ]
    otherwise = "that is not the number of disagreeing pixels."
    return report(exercise, _diagnose(count, (a ^ b).sum(), mistakes, otherwise, np.equal), hint)


def check_masked_mean(answer: Any, pixel_losses: Any, keep: Any) -> Verdict:
    """Check the mean of per-pixel losses over the pixels a mask keeps.

    Args:
        answer: one number; ``None`` when not answered yet.
        pixel_losses: (H, W) float array of per-pixel losses.
        keep: (H, W) bool or 0/1 array, True where a pixel counts; at least one True.

    Returns:
        Whether the mean is right (relative tolerance 1e-4); prints the verdict and a hint.

    Raises:
        ValueError: if the arrays are not 2-D, differ in shape, or ``keep`` keeps no pixel.
    """
    exercise = "Exercise 3 (masked mean loss)"
    hint = "Sum the losses of the kept pixels and divide by how many pixels are kept."
    if answer is None:
        return not_answered(exercise, hint)
    losses, keep = np.asarray(pixel_losses, dtype=np.float64), _as_bool_mask(keep, "keep")
    if losses.shape != keep.shape or not keep.any():
        raise ValueError(
            f"expected pixel_losses and keep of one shape, keeping at least one pixel; got "
            f"shapes {losses.shape} and {keep.shape} with {keep.sum()} pixels kept."
        )
    value = _as_number(answer)
    if value is None:
        return report(exercise, f"expected one number, got shape {np.shape(answer)}.", hint)
    kept_sum, dropped = losses[keep].sum(), losses[~keep]
    mistakes = [
        (losses.mean(), "that is the mean over all pixels: the ignored ones still count."),
        (kept_sum / losses.size, "that divides by all pixels (as Keras' default reduction does)."),
        (dropped.mean() if dropped.size else np.nan, "that averages the ignored pixels instead."),
    ]
    otherwise = "that is not the mean loss over the kept pixels."
    problem = _diagnose(value, kept_sum / keep.sum(), mistakes, otherwise, _is_close)
    return report(exercise, problem, hint)


# --- Lesson 03 (the dataset and its pipeline) ---------------------------------------------------

_PIPELINE_STEPS = ("map", "cache", "shuffle", "batch", "prefetch")


def check_background_accuracy(answer: Any, pixel_counts: Any) -> Verdict:
    """Check the pixel accuracy of a model that answers "background" everywhere (03_pets_dataset).

    Args:
        answer: one number, a fraction in [0, 1]; ``None`` when not answered yet.
        pixel_counts: (N, 3) pixels of pet, background and border in each of N images.

    Returns:
        Whether the accuracy is right (relative tolerance 1e-4); prints the verdict and a hint.
    """
    exercise = "Exercise 1 (the all-background model)"
    hint = "accuracy = correct pixels / all pixels, over all images; background is class 1."
    if answer is None:
        return not_answered(exercise, hint)
    value = _as_number(answer)
    if value is None:
        return report(exercise, f"expected one number, got shape {np.shape(answer)}.", hint)
    counts = np.atleast_2d(np.asarray(pixel_counts, dtype=np.float64))  # (N, 3)
    right = counts[:, 1].sum() / counts.sum()
    pet_share, _, border_share = counts.sum(axis=0) / counts.sum()
    mistakes = [
        (100 * right, "that is a percentage; give a fraction between 0 and 1."),
        (
            np.mean(counts[:, 1] / counts.sum(axis=1)),
            "that is the mean of per-image accuracies; pixel accuracy pools all pixels.",
        ),
        (pet_share, "that is the share of pet pixels (class 0), not of background."),
        (border_share, "that is the share of border pixels (class 2), not of background."),
    ]
    otherwise = "that is not the accuracy of that model."
    return report(exercise, _diagnose(value, right, mistakes, otherwise, _is_close), hint)


def _test_trimap() -> np.ndarray:
    """A (45, 61, 1) uint8 mask like a trimap: background, a wide border band, a pet inside."""
    mask = np.ones((45, 61, 1), dtype=np.uint8)
    mask[4:41, 5:56] = 2
    mask[14:31, 16:45] = 0
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
        return f"resizing a (45, 61, 1) uint8 mask to {size}, it raised {_describe_error(error)}."
    values = np.unique(result)
    if result.shape != (*size, 1):
        return f"for size {size} it returned shape {result.shape}; expected {(*size, 1)}."
    if not np.all(values == np.round(values)) or not set(values.tolist()) <= {0, 1, 2}:
        return f"the result holds values {values[:6].tolist()}, which are not labels 0, 1, 2."
    if invented := _invented_labels(source, result):
        return (
            f"resized to {size}, {invented} pixels hold a label found nowhere near them in the "
            "input (e.g. background between pet and border), as rounded interpolations do."
        )
    return None


def check_resize_mask(resize_mask: Callable[[Any, tuple[int, int]], Any] | None) -> Verdict:
    """Check a function that resizes a mask without inventing labels (03_pets_dataset).

    Args:
        resize_mask: the student's ``resize_mask(mask, size)``, taking a (H, W, 1) uint8 mask
            and ``size = (height, width)``; ``None`` when not answered yet.

    Returns:
        Whether, shrinking and enlarging a test trimap, it returns (height, width, 1) masks
        whose every label is copied from the matching neighbourhood of the input (nearest
        neighbour or an equivalent); prints the verdict and a hint.
    """
    exercise = "Exercise 2 (resizing a mask)"
    hint = "look at the `method` argument of tf.image.resize: which method only copies pixels?"
    if resize_mask is None:
        return not_answered(exercise, hint)
    if not callable(resize_mask):
        return report(exercise, f"expected a function, got {type(resize_mask).__name__}.", hint)
    problem = _resize_problem(resize_mask, (18, 24)) or _resize_problem(resize_mask, (100, 130))
    return report(exercise, problem, hint)


def check_pipeline_order(steps: Sequence[str] | None) -> Verdict:
    """Check the order of the tf.data steps of a training pipeline (03_pets_dataset).

    Args:
        steps: the names "map", "cache", "shuffle", "batch", "prefetch" in the student's
            order; ``None`` when not answered yet.

    Returns:
        Whether the order is map → cache → shuffle → batch → prefetch; prints the verdict and
        the first misplaced step's consequence.
    """
    exercise = "Exercise 3 (pipeline order)"
    hint = "ask of each step: what must already have happened for it to do its job only once?"
    if steps is None:
        return not_answered(exercise, hint)
    order = [str(s).strip().lower() for s in steps]
    if sorted(order) != sorted(_PIPELINE_STEPS):
        return report(
            exercise, f"use each of {list(_PIPELINE_STEPS)} once; got {list(steps)}.", hint
        )
    position = {step: order.index(step) for step in order}
    rules = [  # (must come first, then, what goes wrong otherwise)
        ("map", "cache", "caching before map keeps full-size photos: resizing runs every epoch."),
        ("cache", "shuffle", "caching after shuffle freezes the first epoch's order for all."),
        (
            "shuffle",
            "batch",
            "shuffling after batch moves whole batches: the same images stay together.",
        ),
        (
            "batch",
            "prefetch",
            "prefetch goes last, so that whole ready batches wait for the model.",
        ),
    ]
    problem = next((why for first, then, why in rules if position[first] > position[then]), None)
    return report(exercise, problem, hint)


# --- Lesson 04 (building a U-Net) ---------------------------------------------------------------


def _as_shape(answer: Any) -> tuple | None:
    """Return an answer that is a sequence of integers (or None entries) as a tuple, else None."""
    try:
        entries = tuple(answer)
    except TypeError:
        return None
    if not all(e is None or isinstance(e, (int, np.integer)) for e in entries):
        return None
    return tuple(None if e is None else int(e) for e in entries)


def check_unet_output_shape(
    answer: Any, batch_size: int, image_size: int, num_classes: int, depth: int = 3
) -> Verdict:
    """Check the predicted shape of a U-Net's output on a batch (04_building_unet).

    Args:
        answer: the shape as a tuple of integers, e.g. ``(5, 96, 96, 4)``; ``None`` when not
            answered yet.
        batch_size: images in the batch the model is given.
        image_size: side S of the square input images.
        num_classes: classes the model was built for.
        depth: down-samplings of the U-Net (to recognise the bottleneck's resolution).

    Returns:
        Whether the shape is ``(batch_size, image_size, image_size, num_classes)``; prints the
        verdict and a hint.
    """
    exercise = "Exercise 1 (output shape)"
    hint = "the output keeps the input's height and width and has one channel per class."
    if answer is None:
        return not_answered(exercise, hint)
    shape = _as_shape(answer)
    if shape is None:
        return report(exercise, f"expected a tuple of integers, got {answer!r:.60}.", hint)
    b, s, c, low = batch_size, image_size, num_classes, image_size // 2**depth
    mistakes = [
        ((b, s, s, 3), "3 channels is one per colour of the input: the output has one per class."),
        ((b, s, s), "that is the mask after argmax; the model itself outputs probabilities."),
        ((b, s, s, 1), "one channel would be one number per pixel; softmax gives one per class."),
        ((s, s, c), "the batch axis is missing: the model returns one result per image."),
        ((None, s, s, c), f"None is model.output_shape's unknown batch; here it holds {b} images."),
        ((b, low, low, c), "that is the bottleneck's resolution; the decoder up-samples it back."),
    ]
    right = (b, s, s, c)
    otherwise = f"a batch of {b} images of {s}×{s} pixels does not give {shape}."
    return report(exercise, _diagnose(shape, right, mistakes, otherwise, _same_shape), hint)


def _same_shape(x: tuple, y: tuple) -> bool:
    """Whether two shapes are equal (``None`` only equals ``None``)."""
    return tuple(x) == tuple(y)


def check_conv_parameters(
    answer: Any, kernel_size: int, in_channels: int, filters: int, skip_channels: int = 0
) -> Verdict:
    """Check the number of parameters of a ``Conv2D`` layer with biases (04_building_unet).

    Args:
        answer: a whole number; ``None`` when not answered yet.
        kernel_size: side k of the square kernel.
        in_channels: channels of the layer's input, all of them (skip channels included).
        filters: output channels.
        skip_channels: how many of ``in_channels`` come from a skip connection (to recognise
            an answer that forgets them).

    Returns:
        Whether the answer is ``k·k·in_channels·filters + filters``; prints the verdict and a
        hint.
    """
    exercise = "Exercise 2 (parameters of a convolution)"
    hint = "each filter has a k×k kernel for every input channel, plus one bias."
    if answer is None:
        return not_answered(exercise, hint)
    value = _as_number(answer)
    if value is None:
        return report(exercise, f"expected one number, got {answer!r:.60}.", hint)
    k2, f = kernel_size**2, filters
    mistakes = [
        (k2 * in_channels * f, "that forgets the biases: one per filter."),
        (k2 * (in_channels - skip_channels) * f + f, "the input is the concatenation: the "
         "up-sampled channels plus the skip connection's."),
        (kernel_size * in_channels * f + f, f"a {kernel_size}×{kernel_size} kernel has {k2} "
         f"weights per input channel, not {kernel_size}."),
        (k2 * f + f, "each filter has one kernel per input channel, not one in all."),
        (k2 * in_channels * f + 1, "there is one bias per filter, not one per layer."),
    ]  # fmt: skip
    otherwise = "that is not the number of weights plus biases of this layer."
    right = k2 * in_channels * f + f
    return report(exercise, _diagnose(value, right, mistakes, otherwise, np.equal), hint)


def _receptive_field(layers: Sequence[tuple[int, float]]) -> int:
    """D = ⌈S·(D' − 1) + K⌉ from one output pixel (D' = 1) back to the input."""
    size = 1
    for kernel, stride in reversed(layers):
        size = math.ceil(stride * (size - 1) + kernel)
    return size


def check_receptive_field(answer: Any, layers: Sequence[tuple[int, float]]) -> Verdict:
    """Check the receptive field of a stack of convolutions and poolings (04_building_unet).

    Args:
        answer: the side of the receptive field in input pixels; ``None`` when not answered.
        layers: ``(kernel, stride)`` of each layer, from the input to the output.

    Returns:
        Whether the answer is the size D at the input of the recurrence D = S·(D' − 1) + K
        applied from the output (D' = 1) back to the input; prints the verdict and a hint.
    """
    exercise = "Exercise 3 (receptive field)"
    hint = "start at the output with D' = 1 and apply D = S·(D' − 1) + K, last layer first."
    if answer is None:
        return not_answered(exercise, hint)
    value = _as_number(answer)
    if value is None:
        return report(exercise, f"expected one number, got {answer!r:.60}.", hint)
    forward, minus_one_dropped = 1, 1
    for kernel, stride in layers:
        forward = math.ceil(stride * (forward - 1) + kernel)
    for kernel, stride in reversed(layers):
        minus_one_dropped = math.ceil(stride * minus_one_dropped + kernel)
    mistakes = [
        (forward, "the recurrence ran from the input to the output; it goes backwards, from "
         "one output pixel to the input pixels it sees."),
        (1 + sum(k - 1 for k, _ in layers), "that ignores the strides: after a stride-2 layer "
         "every step of the later layers covers 2 input pixels."),
        (minus_one_dropped, "the −1 is missing: D' pixels have D' − 1 gaps of S pixels between "
         "their centres, and the kernel adds K."),
    ]  # fmt: skip
    otherwise = "that is not the receptive field of this stack."
    right = _receptive_field(layers)
    return report(exercise, _diagnose(value, right, mistakes, otherwise, np.equal), hint)


#: What each kind of layer does in a U-Net block, for the hint when a student's layer is missing.
_LAYER_HINTS = {
    "InputLayer": "the model starts from keras.Input(shape=(image_size, image_size, 3)).",
    "Conv2D": "each block has two 3×3 convolutions with padding='same' and ReLU; the filters "
    "double at every level down (base_filters · 2**level).",
    "BatchNormalization": "with batch_norm=True every convolution is followed by "
    "BatchNormalization, then the ReLU: conv → BN → ReLU.",
    "MaxPooling2D": "a down block ends with a 2×2 max-pooling; the map before it is the skip.",
    "UpSampling2D": "an up block starts by up-sampling 2× (UpSampling2D(2)).",
    "Concatenate": "the skip connection: Concatenate()([up_sampled, skip]), the encoder's map "
    "of the same size.",
    "Activation": "the head ends in softmax: one probability per class at every pixel.",
}


_INPUT_HINT = (
    "build the input from the image side alone: keras.Input(shape=(image_size, image_size, 3)); "
    "the original's img_size + (3,) adds a channel to a shape that already has one."
)


def _keras_kind(layer: Any) -> str:
    """The Keras class a layer is or derives from (FusedBatchNormalization: BatchNormalization)."""
    for cls in type(layer).__mro__:
        if cls.__module__.startswith("keras"):
            return cls.__name__
    return type(layer).__name__


def _layer_rows(model: Any) -> list[dict[str, Any]]:
    """One row per layer: kind, output shape, parameters, activation, kernel, concatenated channels.

    A separate ``Activation`` layer is folded into the layer before it when that one has none,
    so ``Conv2D(..., activation="relu")`` and ``Conv2D`` + ``Activation("relu")`` read the same.
    """
    rows: list[dict[str, Any]] = []
    for layer in model.layers:
        kind = _keras_kind(layer)
        activation = getattr(getattr(layer, "activation", None), "__name__", None)
        if kind == "Activation" and rows and rows[-1]["activation"] in (None, "linear"):
            rows[-1]["activation"] = activation
            continue
        inputs = layer.input if isinstance(layer.input, list) else [layer.input]
        rows.append({
            "kind": kind,
            "shape": tuple(layer.output.shape[1:]),
            "params": layer.count_params(),
            "activation": None if activation == "linear" else activation,
            "kernel": getattr(layer, "kernel_size", None),
            "concat": tuple(t.shape[-1] for t in inputs) if kind == "Concatenate" else None,
        })  # fmt: skip
    return rows


def _describe(row: dict[str, Any]) -> str:
    """``Conv2D 3×3 → (64, 64, 16), 432 parameters, relu``."""
    kernel = f" {row['kernel'][0]}×{row['kernel'][1]}" if row["kernel"] else ""
    concat = f" of {' + '.join(map(str, row['concat']))} channels" if row["concat"] else ""
    activation = f", {row['activation']}" if row["activation"] else ""
    return (
        f"{row['kind']}{kernel}{concat} → {row['shape']}, {row['params']:,} parameters{activation}"
    )


def _row_hint(yours: dict[str, Any], theirs: dict[str, Any], is_head: bool) -> str:
    """The hint for the first layer where a student's model differs from build_unet's."""
    if yours["kind"] != theirs["kind"]:
        return _LAYER_HINTS.get(theirs["kind"], "compare your layers with the list above.")
    if theirs["kind"] == "InputLayer":
        return _INPUT_HINT
    if theirs["kind"] == "Conv2D":
        filters = theirs["shape"][-1]
        if is_head and yours["kernel"] != theirs["kernel"]:
            return (
                f"the head is a {theirs['kernel'][0]}×{theirs['kernel'][1]} convolution: "
                "the U-Net paper classifies every pixel with a 1×1 convolution, not 3×3."
            )
        if yours["params"] == theirs["params"] + filters and yours["kernel"] == theirs["kernel"]:
            return (
                "a convolution followed by batch normalisation needs no bias "
                "(use_bias=False): BN's β adds one per channel after it."
            )
        if yours["activation"] != theirs["activation"]:
            return (
                "with batch normalisation the ReLU comes after it: Conv2D (no activation) → "
                "BatchNormalization → Activation('relu')."
                if theirs["activation"] is None
                else "every convolution of a block ends in a ReLU (the head in softmax)."
            )
        if yours["shape"][:2] != theirs["shape"][:2]:
            return "use padding='same', so a convolution keeps the height and width."
        if yours["shape"][-1] != theirs["shape"][-1]:
            return "the filters double at every level down: base_filters · 2**level."
    if theirs["kind"] == "Concatenate" and yours["concat"] == theirs["concat"][::-1]:
        return (
            "concatenate in the order [up_sampled, skip], as build_unet does, so that its "
            "weights fit your model."
        )
    if theirs["kind"] == "Concatenate":
        return "concatenate the up-sampled map with the skip of the same resolution."
    return _LAYER_HINTS.get(theirs["kind"], "compare your layers with the list above.")


def _first_difference(
    yours: list[dict[str, Any]], theirs: list[dict[str, Any]], what: str
) -> tuple[str, str] | None:
    """``(problem, hint)`` at the first row where two layer lists differ, or ``None``."""
    head = max((i for i, r in enumerate(theirs) if r["kind"] == "Conv2D"), default=-1)
    for i in range(max(len(yours), len(theirs))):
        if i >= len(yours):
            return (
                f"{what} stops after layer {i - 1}; build_unet goes on with layer {i}: "
                f"{_describe(theirs[i])}.",
                _LAYER_HINTS.get(theirs[i]["kind"], "compare your layers with the list above."),
            )
        if i >= len(theirs):
            return (
                f"{what} has more layers than build_unet's {len(theirs)}, from layer {i}: "
                f"{_describe(yours[i])}.",
                "build_unet's block is two convolutions; check for a layer added twice.",
            )
        if yours[i] != theirs[i]:
            return (
                f"layer {i} differs: yours is {_describe(yours[i])}; build_unet's is "
                f"{_describe(theirs[i])}.",
                _row_hint(yours[i], theirs[i], is_head=i == head),
            )
    return None


def _call_student(fn: Callable[..., Any], name: str, *args: Any, **kwargs: Any) -> Any:
    """Call a student's function; a raised error becomes a one-line ValueError."""
    try:
        return fn(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 – any error of the student's code is reported
        first_line = (str(error).strip().splitlines() or [""])[0][:200]
        problem = ValueError(f"your {name} raised {type(error).__name__}: {first_line}")
        problem.detail = str(error)  # the whole message, for a checker to diagnose
        raise problem from None


def _block_problem(
    student: Callable[..., Any], name: str, build: Callable[..., Any], reference: Callable
) -> tuple[str, str] | None:
    """Build a student's block and build_unet's for both batch_norm values; compare the layers."""
    for batch_norm in (False, True):
        try:
            model = build(student, batch_norm)
        except Exception as error:  # noqa: BLE001 – Keras refusing the student's graph
            first_line = (str(error).strip().splitlines() or [""])[0][:200]
            return first_line, "run your function on a keras.Input to see the full error."
        if isinstance(model, tuple):  # a problem found while building
            return model
        theirs = reference(batch_norm)
        yours = [r for r in _layer_rows(model) if r["kind"] != "InputLayer"]
        found = _first_difference(yours, theirs, f"your {name}")
        if found is not None:
            problem, hint = found
            return f"with batch_norm={batch_norm}, {problem}", hint
    return None


def _reference_rows(batch_norm: bool, start: str, stop: str | None) -> list[dict[str, Any]]:
    """Rows of a one-level build_unet (8×8, 6 filters), from the first ``start`` to ``stop``."""
    from labutils.models import build_unet

    rows = _layer_rows(build_unet(image_size=8, base_filters=6, depth=1, batch_norm=batch_norm))
    begin = next(i for i, r in enumerate(rows) if r["kind"] == start)
    end = next((i for i, r in enumerate(rows) if i > begin and r["kind"] == stop), None)
    return rows[begin:] if end is None else rows[begin : end + (stop == "MaxPooling2D")]


def _student_model(inputs: Any, outputs: Any, name: str) -> Any:
    """``keras.Model(inputs, outputs)``, or a ValueError when outputs are not Keras tensors."""
    import keras

    if not all(isinstance(t, keras.KerasTensor) for t in outputs):
        got = ", ".join(type(t).__name__ for t in outputs)
        raise ValueError(f"your {name} should return Keras tensors (layer outputs), got {got}.")
    return keras.Model(inputs, outputs if len(outputs) > 1 else outputs[0])


def check_conv_block(conv_block: Callable[..., Any] | None) -> Verdict:
    """Check a student's ``conv_block(x, filters, batch_norm)`` (04_building_unet).

    Args:
        conv_block: the student's function, ``None`` when not answered yet.

    Returns:
        Whether it builds build_unet's layers (two 3×3 'same' convolutions with ReLU; conv →
        BN → ReLU without a bias when ``batch_norm``), with the same output shapes and
        parameters; prints the first differing layer and a hint.
    """
    import keras

    exercise = "Exercise 4 (convolution block)"
    hint = "two Conv2D(filters, 3, padding='same'), each followed by a ReLU."
    if conv_block is None:
        return not_answered(exercise, hint)

    def build(fn: Callable[..., Any], batch_norm: bool) -> Any:
        inputs = keras.Input((8, 8, 3))
        outputs = _call_student(fn, "conv_block", inputs, 6, batch_norm=batch_norm)
        return _student_model(inputs, [outputs], "conv_block")

    def reference(batch_norm: bool) -> list[dict[str, Any]]:
        return _reference_rows(batch_norm, "Conv2D", "MaxPooling2D")[:-1]

    found = _block_problem(conv_block, "conv_block", build, reference)
    return report(exercise, *(found or (None, hint)))


def check_down_block(down_block: Callable[..., Any] | None) -> Verdict:
    """Check a student's ``down_block(x, filters, batch_norm)`` (04_building_unet).

    Args:
        down_block: the student's function, ``None`` when not answered yet.

    Returns:
        Whether it returns ``(skip, pooled)``: the convolution block's output and that output
        max-pooled 2×2, with build_unet's layers; prints what differs and a hint.
    """
    import keras

    exercise = "Exercise 5 (down block)"
    hint = "conv_block, then MaxPooling2D(2); return both maps: (skip, pooled)."
    if down_block is None:
        return not_answered(exercise, hint)

    def build(fn: Callable[..., Any], batch_norm: bool) -> Any:
        inputs = keras.Input((8, 8, 3))
        result = _call_student(fn, "down_block", inputs, 6, batch_norm=batch_norm)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            return (
                f"down_block should return two maps (skip, pooled), got {type(result).__name__}.",
                "the decoder needs the map before the pooling: return it too.",
            )
        model = _student_model(inputs, list(result), "down_block")
        shapes = [tuple(t.shape[1:3]) for t in result]
        if shapes != [(8, 8), (4, 4)]:
            return (
                f"on an 8×8 input it returned maps of {shapes[0]} and {shapes[1]}; expected the "
                "skip at (8, 8) first, then the pooled map at (4, 4).",
                "return (skip, pooled) in that order, the skip taken before MaxPooling2D.",
            )
        return model

    def reference(batch_norm: bool) -> list[dict[str, Any]]:
        return _reference_rows(batch_norm, "Conv2D", "MaxPooling2D")

    found = _block_problem(down_block, "down_block", build, reference)
    return report(exercise, *(found or (None, hint)))


def check_up_block(up_block: Callable[..., Any] | None) -> Verdict:
    """Check a student's ``up_block(x, skip, filters, batch_norm)`` (04_building_unet).

    Args:
        up_block: the student's function, ``None`` when not answered yet.

    Returns:
        Whether it up-samples ``x`` 2×, concatenates ``[up_sampled, skip]`` and applies the
        convolution block, with build_unet's layers; prints what differs and a hint.
    """
    import keras

    exercise = "Exercise 6 (up block with its skip connection)"
    hint = "UpSampling2D(2), then Concatenate()([up_sampled, skip]), then conv_block."
    if up_block is None:
        return not_answered(exercise, hint)

    def build(fn: Callable[..., Any], batch_norm: bool) -> Any:
        inputs, skip = keras.Input((4, 4, 12)), keras.Input((8, 8, 6))
        outputs = _call_student(fn, "up_block", inputs, skip, 6, batch_norm=batch_norm)
        return _student_model([inputs, skip], [outputs], "up_block")

    def reference(batch_norm: bool) -> list[dict[str, Any]]:
        return _reference_rows(batch_norm, "UpSampling2D", None)[:-1]  # without the head

    found = _block_problem(up_block, "up_block", build, reference)
    return report(exercise, *(found or (None, hint)))


#: The configurations the U-Net checker builds: (description, unet's keyword arguments).
_UNET_CASES = (
    ("its defaults (the original lab's U-Net, 64×64)", {}),
    ("image_size=32, base_filters=4, depth=2", dict(image_size=32, base_filters=4, depth=2)),
    (
        "image_size=32, num_classes=4, base_filters=4, depth=3, batch_norm=True",
        dict(image_size=32, num_classes=4, base_filters=4, depth=3, batch_norm=True),
    ),
)
_UNET_DEFAULTS = dict(image_size=64, num_classes=3, base_filters=64, depth=3, batch_norm=False)


def check_unet(unet: Callable[..., Any] | None) -> Verdict:
    """Check a student's U-Net against ``models.build_unet(..., head_kernel=1)`` (04_building_unet).

    ``unet(image_size=64, num_classes=3, base_filters=64, depth=3, batch_norm=False)`` is built
    with its defaults and two smaller configurations; for each, its layers (kind, output shape,
    parameters, activation) are compared one by one with build_unet's.

    Args:
        unet: the student's function, ``None`` when not answered yet.

    Returns:
        Whether every layer agrees; prints the first differing layer of the first
        configuration that differs, both parameter counts, and a hint.
    """
    from labutils.models import build_unet

    exercise = "Exercise 7 (the whole U-Net)"
    hint = "down blocks, a bottleneck conv_block, up blocks with their skips, a 1×1 softmax head."
    if unet is None:
        return not_answered(exercise, hint)
    for description, kwargs in _UNET_CASES:
        try:
            model = _call_student(unet, "unet", **kwargs)
            if not hasattr(model, "layers"):
                got = type(model).__name__
                raise ValueError(f"your unet should return a keras.Model, got {got}.")
        except ValueError as error:
            detail = getattr(error, "detail", "")  # a Conv2D refusing (None, S, S, 1, 3)?
            five_d = "ndim=5" in detail or re.search(r"\(None(, \d+){4}\)", detail) is not None
            return report(exercise, f"with {description}: {error}", _INPUT_HINT if five_d else hint)
        reference = build_unet(**{**_UNET_DEFAULTS, **kwargs}, head_kernel=1)
        found = _first_difference(_layer_rows(model), _layer_rows(reference), "your unet")
        if found is not None:
            problem, row_hint = found
            counts = f"(parameters: yours {model.count_params():,}, build_unet's "
            counts += f"{reference.count_params():,})"
            return report(exercise, f"with {description}, {problem} {counts}", row_hint)
    return report(exercise, None, hint)


# --- Lesson 05 (training a U-Net) ---------------------------------------------------------------


def check_best_epoch(answer: Any, history: Any) -> Verdict:
    """Check the 1-based epoch that early stopping restored (05_training_unet, exercise 1).

    Args:
        answer: the student's epoch number.
        history: the ``History`` that ``fit`` returned, or its ``history`` dict.

    Returns:
        The verdict: right when ``answer`` is the epoch with the highest ``val_miou``.
    """
    exercise = "Exercise 1 (the epoch validation chose)"
    hint = "Early stopping watched history['val_miou'] and kept its maximum; epochs count from 1."
    if answer is None:
        return not_answered(exercise, hint)
    value = _as_number(answer)
    if value is None or value != int(value):
        return report(exercise, f"expected a whole epoch number, got {answer!r}.", hint)
    logs = getattr(history, "history", history)
    best = int(np.argmax(logs["val_miou"])) + 1
    if int(value) == best:
        return report(exercise, None, hint)
    mistakes = [  # the usual wrong answers, most likely first
        (best - 1, "the 0-based index of the best epoch; Keras counts epochs from 1"),
        (int(np.argmax(logs["miou"])) + 1, "the best *training* mean IoU, not the validation one"),
        (int(np.argmin(logs["val_loss"])) + 1, "the lowest validation loss, not the best val_miou"),
        (len(logs["val_miou"]), "the last epoch; early stopping restored the best one"),
    ]
    problem = next((text for epoch, text in mistakes if epoch == int(value)), None)
    problem = problem or "not the epoch with the best validation mean IoU"
    return report(exercise, f"epoch {int(value)} is {problem}.", hint)


# --- Lesson 06 (evaluation) ----------------------------------------------------------------------


def _same_values(x: np.ndarray, y: Any) -> bool:
    """Whether two arrays have one shape and agree to a relative tolerance of 1e-4."""
    y = np.asarray(y, dtype=np.float64)
    return x.shape == y.shape and bool(np.allclose(x, y, rtol=1e-4, atol=0.0, equal_nan=True))


def check_precision(answer: Any, cm: Any) -> Verdict:
    """Check the precision of every class, computed from a confusion matrix (06_evaluation).

    Args:
        answer: (C,) one precision per class, in class order; ``None`` when not answered yet.
        cm: (C, C) pixel counts, rows = true class, columns = predicted class.

    Returns:
        Whether ``answer`` is ``cm[c, c] / cm[:, c].sum()`` for every class c (relative
        tolerance 1e-4); prints the verdict and a hint.
    """
    exercise = "Exercise 1 (precision per class)"
    hint = "precision of class c = cm[c, c] / (pixels predicted as c); predictions are columns."
    if answer is None:
        return not_answered(exercise, hint)
    try:
        value = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return report(exercise, f"expected {len(cm)} numbers, got {answer!r:.60}.", hint)
    counts = np.asarray(cm, dtype=np.float64)
    tp = np.diag(counts)
    with np.errstate(divide="ignore", invalid="ignore"):  # a class may never be predicted
        right = tp / counts.sum(axis=0)
        mistakes = [
            (tp / counts.sum(axis=1), "that is the recall of each class: you divided by the "
             "row sums, the true pixels; precision divides by the predicted pixels."),
            (metrics.iou_from_confusion(counts), "that is the IoU of each class; precision "
             "divides by the predicted pixels only, not by the union."),
            (100 * right, "those are percentages; give fractions between 0 and 1."),
            (tp / counts.sum(), "you divided by all pixels; precision divides by the pixels "
             "predicted as that class."),
        ]  # fmt: skip
    otherwise = f"expected {len(tp)} values, one per class: those are not the precisions."
    return report(exercise, _diagnose(value, right, mistakes, otherwise, _same_values), hint)


def check_worst_images(answer: Any, ious: Any, k: int = 5) -> Verdict:
    """Check the indices of the k images with the lowest IoU, worst first (06_evaluation).

    Args:
        answer: k image indices (array or list of integers); ``None`` when not answered yet.
        ious: (N,) one IoU per image.
        k: how many images the exercise asks for.

    Returns:
        Whether ``answer`` holds k distinct indices whose IoUs are the k lowest, in increasing
        order (any order among equal IoUs); prints the verdict and a hint.
    """
    exercise = "Exercise 2 (the worst images)"
    hint = "np.argsort(values) returns the indices that sort the values from the lowest up."
    if answer is None:
        return not_answered(exercise, hint)
    scores, value = np.asarray(ious, dtype=np.float64), np.asarray(answer)
    return report(exercise, _worst_images_problem(value, scores, k), hint)


def _worst_images_problem(value: np.ndarray, scores: np.ndarray, k: int) -> str | None:
    """Say what is wrong with a worst-k answer, or return None when it is right."""
    lowest = np.sort(scores)[:k]
    if value.shape != (k,):
        return f"expected {k} image indices, got shape {value.shape}."
    if not np.issubdtype(value.dtype, np.integer):
        if np.allclose(value, lowest):
            return "those are the IoU values; the exercise asks for the images' indices."
        return f"expected integer image indices, got {value.dtype} values."
    if value.min() < 0 or value.max() >= len(scores) or len(set(value.tolist())) < k:
        return f"expected {k} different indices between 0 and {len(scores) - 1}."
    got = scores[value]
    if np.array_equal(got, lowest):
        return None
    if np.array_equal(got, np.sort(scores)[::-1][:k]):
        return "those are the best images: argsort sorts from the lowest value up."
    if np.array_equal(np.sort(got), lowest):
        return "the right images, but not worst first: order them by increasing IoU."
    if value.min() >= 1 and np.array_equal(scores[value - 1], lowest):
        return "Python counts from 0: your indices are one too high."
    return f"image {value[got > lowest[-1]][0]} is not among the {k} worst."


# --- Lesson 07 (detection) ---------------------------------------------------------------------

__all__ += ["check_giou", "check_head_boxes", "check_precision_recall"]


def check_head_boxes(answer: Any, head_bbox: Any) -> Verdict:
    """Check the head boxes as xyxy, only for the images that have one (07_detection).

    Args:
        answer: (M, 4) ``(x_min, y_min, x_max, y_max)`` in 0..1, one row per image with a head
            box, in image order; ``None`` when not answered yet.
        head_bbox: (N, 4) TFDS ``head_bbox``: yxyx in 0..1, all zeros where there is no box.

    Returns:
        Whether ``answer`` is right (absolute tolerance 1e-6); prints the verdict and a hint.
    """
    exercise = "Exercise 1 (head boxes)"
    hint = "head_bbox is [y_min, x_min, y_max, x_max]; an image without a head box has zeros."
    if answer is None:
        return not_answered(exercise, hint)
    heads = np.asarray(head_bbox, dtype=np.float64).reshape(-1, 4)
    has = heads.any(axis=1)
    right = heads[has][:, [1, 0, 3, 2]]
    mistakes = [
        (heads[has], "those are still [y_min, x_min, y_max, x_max]: reorder the columns."),
        (heads[:, [1, 0, 3, 2]], "the images without a head box are still there (rows of "
         "zeros): keep only the rows that are not all zeros."),
        (np.hstack([right[:, :2], right[:, 2:] - right[:, :2]]), "that is (x, y, width, "
         "height); the exercise asks for the corners (x_min, y_min, x_max, y_max)."),
        (heads, "nothing changed: reorder the columns and drop the rows of zeros."),
    ]  # fmt: skip
    otherwise = f"expected {len(right)} boxes, (x_min, y_min, x_max, y_max) each."
    problem = _diagnose(np.asarray(answer, dtype=np.float64), right, mistakes, otherwise,
                        _same_boxes)  # fmt: skip
    return report(exercise, problem, hint)


def _same_boxes(x: Any, y: Any) -> bool:
    """Whether two arrays of boxes have one shape and agree to 1e-6."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return x.shape == y.shape and bool(np.allclose(x, y, rtol=0.0, atol=1e-6))


_GIOU_CASES = (  # (box_a, box_b, GIoU): overlapping, disjoint, nested, identical
    ((0, 0, 4, 4), (2, 2, 6, 6), 4 / 28 - (36 - 28) / 36),
    ((0, 0, 1, 1), (2, 0, 3, 1), 0 - 1 / 3),
    ((0, 0, 4, 4), (1, 1, 3, 3), 0.25),
    ((1, 2, 3, 5), (1, 2, 3, 5), 1.0),
)


def check_giou(giou_fn: Callable[[Any, Any], float] | None) -> Verdict:
    """Check a student's ``giou(box_a, box_b)`` on four pairs of xyxy boxes (07_detection).

    Args:
        giou_fn: a function of two boxes ``(x_min, y_min, x_max, y_max)`` returning their
            generalised IoU; ``None`` when not answered yet.

    Returns:
        Whether it gives the right GIoU (to 1e-6) on an overlapping, a disjoint, a nested and
        an identical pair; prints the verdict and a hint.
    """
    exercise = "Exercise 2 (GIoU)"
    hint = "GIoU = IoU − (area of C − area of the union) / area of C; C encloses both boxes."
    if giou_fn is None:
        return not_answered(exercise, hint)
    for box_a, box_b, right in _GIOU_CASES:
        try:
            got = _as_number(giou_fn(np.array(box_a, float), np.array(box_b, float)))
        except Exception as err:  # noqa: BLE001 - the student's code may fail in any way
            return report(exercise, f"giou{box_a, box_b} raised {type(err).__name__}: {err}", hint)
        if got is None:
            return report(exercise, f"giou{box_a, box_b} should return one number.", hint)
        if not np.isclose(got, right, atol=1e-6):
            return report(exercise, _giou_diagnosis(got, box_a, box_b, right), hint)
    return report(exercise, None, hint)


def _giou_diagnosis(got: float, box_a: tuple, box_b: tuple, right: float) -> str:
    """Name the usual GIoU mistake that gives ``got``."""
    iou = float(metrics.box_iou(box_a, box_b))
    a, b = np.array(box_a, float), np.array(box_b, float)
    hull = np.prod(np.maximum(a[2:], b[2:]) - np.minimum(a[:2], b[:2]))
    inter = iou * (np.prod(a[2:] - a[:2]) + np.prod(b[2:] - b[:2])) / (1 + iou)
    known = [
        (iou, "that is the plain IoU: subtract the share of C that neither box covers."),
        (1 - right, "that is the GIoU *loss*, 1 − GIoU; return the GIoU itself."),
        (iou - (hull - inter) / hull, "subtract (C − union) / C, not (C − intersection) / C."),
    ]
    for value, text in known:
        if np.isclose(got, value, atol=1e-6):
            return f"giou{box_a, box_b} gave {got:.4f}: {text}"
    return f"giou{box_a, box_b} gave {got:.4f}, expected {right:.4f}."


def check_precision_recall(
    answer: Any, ious: Any, scores: Any, iou_threshold: float, min_score: float
) -> Verdict:
    """Check ``(precision, recall)`` of one-box-per-image detections (07_detection).

    A detection counts when its score is at least ``min_score``; it is a hit when its IoU with
    the image's true box is at least ``iou_threshold``. Precision = hits / detections counted,
    recall = hits / images (one true box each).

    Args:
        answer: two numbers ``(precision, recall)``; ``None`` when not answered yet.
        ious: (N,) IoU of each image's predicted box with its true box.
        scores: (N,) the detections' confidence scores.
        iou_threshold, min_score: the exercise's thresholds.

    Returns:
        Whether both numbers are right (relative tolerance 1e-4); prints the verdict and a hint.
    """
    exercise = "Exercise 3 (precision and recall)"
    hint = "precision divides the hits by the detections kept; recall divides them by the pets."
    if answer is None:
        return not_answered(exercise, hint)
    value = np.asarray(answer, dtype=np.float64).ravel() if np.size(answer) == 2 else None
    if value is None:
        return report(exercise, "expected two numbers, (precision, recall).", hint)
    ious, scores = np.asarray(ious, dtype=np.float64), np.asarray(scores, dtype=np.float64)
    kept, hit = scores >= min_score, ious >= iou_threshold
    right = np.array([(kept & hit).sum() / max(kept.sum(), 1), (kept & hit).sum() / len(ious)])
    mistakes = [
        (right[::-1], "precision and recall are swapped."),
        (np.array([hit.mean(), hit.mean()]), "every detection was counted: keep only those "
         f"scoring at least {min_score}."),
        (np.array([right[0], right[0]]), "recall divides the hits by all the true boxes (one "
         "per image), not by the detections kept."),
    ]  # fmt: skip
    otherwise = "those are not the precision and recall of these detections."
    close = lambda x, y: bool(np.allclose(x, y, rtol=1e-4, atol=1e-12))  # noqa: E731
    return report(exercise, _diagnose(value, right, mistakes, otherwise, close), hint)
