"""Checkers of lesson 05, "Training a U-Net", §4: the soft Dice loss and cross-entropy + Dice.

Each runs the student's loss on tensors whose answer is known (random probabilities, an
all-background batch, a perfect prediction) and compares it with :mod:`labutils.losses`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from labutils.checks.verdict import FUNCTION, Exercise, Problem, Verdict, call_student, judge
from labutils.vocabulary import CLASS_NAMES, NUM_CLASSES

__all__ = ["cases", "check_ce_dice_loss", "check_soft_dice_loss"]

_DICE = Exercise(
    "Exercise 1 (soft Dice loss)",
    "one-hot the masks; per class (2·Σ y·p + 1) / (Σ y + Σ p + 1) over the batch; 1 − mean.",
)
_CE_DICE = Exercise(
    "Exercise 2 (cross-entropy + Dice)",
    "the mean sparse categorical cross-entropy over all pixels, plus your soft Dice loss.",
)
_BACKGROUND = CLASS_NAMES.index("background")


def cases() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Named (y_true int32 (2, 4, 4, 1), y_pred float32 (2, 4, 4, C)) pairs with known losses.

    Used by ``labutils.checks.lesson05_fit`` too.
    """
    rng = np.random.default_rng(5)
    masks = rng.integers(0, NUM_CLASSES, (2, 4, 4, 1)).astype(np.int32)
    probs = rng.dirichlet(np.ones(NUM_CLASSES), size=(2, 4, 4)).astype(np.float32)
    background = np.full_like(masks, _BACKGROUND)
    one_hot = np.eye(NUM_CLASSES, dtype=np.float32)
    return {
        "random probabilities": (masks, probs),
        "an all-background batch": (background, probs),
        "a perfect prediction": (masks, one_hot[masks[..., 0]]),
        "a perfect prediction of an all-background batch": (
            background,
            one_hot[background[..., 0]],
        ),
    }


def _dice(y_true: np.ndarray, y_pred: np.ndarray, axes: tuple, smooth: float = 1.0) -> Any:
    """1 − mean soft Dice in NumPy, pooled over ``axes`` (the reference and its variants)."""
    one_hot = np.eye(y_pred.shape[-1])[y_true[..., 0]]
    overlap, total = (one_hot * y_pred).sum(axes), (one_hot + y_pred).sum(axes)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1.0 - np.mean((2 * overlap + smooth) / (total + smooth))


def _ce(y_true: np.ndarray, y_pred: np.ndarray) -> Any:
    """Per-pixel sparse categorical cross-entropy, (B, H, W)."""
    picked = np.take_along_axis(y_pred, y_true.astype(int), axis=-1)[..., 0]
    return -np.log(np.clip(picked, 1e-7, 1.0))


def _dice_mistakes(y_true: np.ndarray, y_pred: np.ndarray) -> list[tuple[Any, str]]:
    right = _dice(y_true, y_pred, (0, 1, 2))
    hard = np.eye(y_pred.shape[-1])[np.argmax(y_pred, -1)]
    return [
        (1.0 - right, "that is the Dice itself; the loss is 1 − Dice (0 when perfect)"),
        (_dice(y_true, y_pred, (0, 1, 2), smooth=0.0), "no +1 in the numerator and denominator: "
         "a class absent from the batch and the prediction gives 0 / 0"),
        (_dice(y_true, y_pred, (1, 2)), "the Dice of each image averaged; pool the pixels of "
         "the whole batch (axes 0, 1, 2)"),
        (_dice(y_true, hard, (0, 1, 2)), "the argmax makes it a hard Dice, which has no "
         "gradient; use the probabilities"),
    ]  # fmt: skip


def _ce_dice_mistakes(y_true: np.ndarray, y_pred: np.ndarray) -> list[tuple[Any, str]]:
    ce, dice = _ce(y_true, y_pred), _dice(y_true, y_pred, (0, 1, 2))
    return [
        (ce.mean(), "only the cross-entropy: add the soft Dice loss"),
        (dice, "only the Dice loss: add the cross-entropy"),
        (ce.sum() + dice, "the cross-entropy summed over pixels; take its mean"),
        (ce.mean() + 1.0 - dice, "cross-entropy plus the Dice itself; add 1 − Dice"),
    ]


def _loss_problem(
    fn: Callable[..., Any],
    name: str,
    reference: Callable[[Any, Any], Any],
    mistakes: Callable[[np.ndarray, np.ndarray], list[tuple[Any, str]]],
) -> Problem:
    """Run the student's loss on every case; what is wrong with the first one it gets wrong."""
    import tensorflow as tf

    for case, (y_true, y_pred) in cases().items():
        try:
            value = call_student(fn, name, tf.constant(y_true), tf.constant(y_pred))
        except ValueError as error:
            return f"on {case}, {error}."
        value = np.asarray(value, dtype=np.float64)
        if value.shape != ():
            return f"it returned shape {value.shape} on {case}; a loss is one number (a scalar)."
        right = float(reference(tf.constant(y_true), tf.constant(y_pred)))
        if np.isclose(value, right, rtol=1e-4, atol=1e-5):
            continue
        known = [text for wrong, text in mistakes(y_true, y_pred)
                 if np.isclose(value, wrong, rtol=1e-4, atol=1e-5, equal_nan=True)]  # fmt: skip
        return f"on {case} it gives {float(value):.4f}, expected {right:.4f}" + (
            f": {known[0]}." if known else "."
        )
    return None


def check_soft_dice_loss(answer: Any) -> Verdict:
    """Check the student's ``soft_dice_loss(y_true, y_pred)``.

    Exercise of lesson 05, §4 "The loss: cross-entropy plus soft Dice".

    Args:
        answer: a function of int (B, H, W, 1) masks and float (B, H, W, C) probabilities
            returning one number.

    Returns:
        The verdict: right when it equals ``losses.soft_dice_loss`` on random probabilities,
        an all-background batch and perfect predictions.

    >>> check_soft_dice_loss(lambda y_true, y_pred: 0.5)
    ❌ Exercise 1 (soft Dice loss): on random probabilities it gives 0.5000, expected 0.6487.
       Hint: one-hot the masks; per class (2·Σ y·p + 1) / (Σ y + Σ p + 1) over the batch; 1 − mean.
    Verdict(passed=False)
    """
    from labutils.losses import soft_dice_loss

    return judge(
        _DICE,
        answer,
        FUNCTION,
        lambda fn: _loss_problem(fn, "soft_dice_loss", soft_dice_loss, _dice_mistakes),
    )


def check_ce_dice_loss(answer: Any) -> Verdict:
    """Check the student's ``ce_dice(y_true, y_pred)``, cross-entropy plus soft Dice loss.

    Exercise of lesson 05, §4 "The loss: cross-entropy plus soft Dice".

    Takes a function as :func:`check_soft_dice_loss` does, and judges it on the same three
    cases against ``losses.ce_dice_loss``.
    """
    from labutils.losses import ce_dice_loss

    return judge(
        _CE_DICE,
        answer,
        FUNCTION,
        lambda fn: _loss_problem(fn, "ce_dice", ce_dice_loss, _ce_dice_mistakes),
    )
