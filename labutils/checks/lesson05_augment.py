"""Checkers of lesson 05, "Training a U-Net", §7-§8: the paired augmentation and the fit call."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from labutils.checks.lesson05_fit import AUGMENT, FIT, tiny_unet
from labutils.checks.verdict import FUNCTION, Problem, Verdict, call_student, judge

__all__ = ["check_augment_pair", "check_fit"]

_SIDE, _BAND = 32, 8  # a top band of class 2, 8 rows of 32; then class 0 left, class 1 right


def _pattern(batch: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Images that paint each class a pure colour, and their masks: flips and zooms show."""
    mask = np.zeros((_SIDE, _SIDE), np.int32)
    mask[:, _SIDE // 2 :] = 1
    mask[:_BAND] = 2
    masks = np.repeat(mask[None, ..., None], batch, axis=0)
    return np.eye(3, dtype=np.float32)[masks[..., 0]], masks


def _augment_problem(fn: Callable[..., Any]) -> Problem:
    import tensorflow as tf

    images, masks = _pattern()
    flipped = zoomed = 0
    tf.random.set_seed(0)  # extra draws of the student's code are reproducible
    for _ in range(6):
        out = call_student(fn, "augment_pair", tf.constant(images), tf.constant(masks))
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            return "return two tensors, (images, masks)."
        new_images, new_masks = (np.asarray(t) for t in out)
        if new_images.shape != images.shape or new_masks.shape != masks.shape:
            return (f"the shapes changed to {new_images.shape} and {new_masks.shape}; resize "
                    "the zoomed crop back to the input's side.")  # fmt: skip
        if not np.all(np.isin(new_masks, (0, 1, 2))):
            return ("the mask holds values that are no class (e.g. 0.5 or 1.5): it was resized "
                    "bilinearly; use method='nearest' for masks.")  # fmt: skip
        if np.mean(new_images.argmax(-1) == new_masks[..., 0]) < 0.9:
            return (
                "image and mask no longer line up: the mask moved differently from the "
                "image. Draw the random flip and crop once and apply them to both."
            )
        left = new_masks[:, -1, 0, 0]  # bottom-left pixel: 0 unless the image was flipped
        flipped += int(np.sum(left == 1))
        band = (new_masks[:, :, _SIDE // 2, 0] == 2).sum(axis=1)  # band rows at the middle
        zoomed += int(np.sum(np.abs(band - _BAND) > 1))
    if not flipped:
        return "no image was flipped in 6 batches of 8: flip left-right with probability 1/2."
    if not zoomed:
        return "no image was zoomed in 6 batches of 8: crop a random 75-100 % square."
    return None


def check_augment_pair(answer: Any) -> Verdict:
    """Check the student's ``augment_pair(images, masks)``: random flips and zooms, aligned.

    Exercise of lesson 05, §7 "Augmentation: the same flip and zoom for image and mask".

    Args:
        answer: a function of float32 images (B, S, S, 3) and int masks (B, S, S, 1)
            returning both, augmented.

    Returns:
        The verdict: right when shapes are kept, masks hold only classes, each image and its
        mask line up, and flips and zooms both happen.
    """
    return judge(AUGMENT, answer, FUNCTION, _augment_problem)


def _fit_problem(fn: Callable[..., Any]) -> Problem:
    import keras
    import tensorflow as tf

    from labutils.losses import compile_model

    images, masks = _pattern(12)
    train_ds = tf.data.Dataset.from_tensor_slices((images[:, ::2, ::2], masks[:, ::2, ::2]))
    val_ds = train_ds.take(4).batch(4)  # 1 validation batch, 3 training batches
    counts = {"epochs": 0, "val_batches": 0}
    probe = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: counts.update(epochs=counts["epochs"] + 1),
        on_test_batch_end=lambda batch, logs: counts.update(val_batches=counts["val_batches"] + 1),
    )
    model = compile_model(tiny_unet())
    with warnings.catch_warnings():  # Keras warns that fit's default shuffle=True is ignored
        warnings.simplefilter("ignore", UserWarning)
        history = call_student(fn, "fit_unet", model, train_ds.batch(4), val_ds, 2, [probe])
    logs = getattr(history, "history", None)
    if not isinstance(logs, dict):
        return f"it returned {type(history).__name__}; return what model.fit returns (a History)."
    if counts["epochs"] != 2:
        return (f"it trained {counts['epochs']} epochs with the callbacks; pass epochs=epochs "
                "and callbacks=callbacks.")  # fmt: skip
    if "val_miou" not in logs:
        return "the history has no val_miou: pass validation_data=val_ds."
    if counts["val_batches"] != 2:
        return "validation ran on other batches than val_ds: validation_data=val_ds."
    return None


def check_fit(answer: Any) -> Verdict:
    """Check the student's ``fit_unet(model, train_ds, val_ds, epochs, callbacks)``.

    Exercise of lesson 05, §9 "Training".

    Args:
        answer: a function that fits ``model`` and returns the History.

    Returns:
        The verdict: right when it trains ``epochs`` epochs with the callbacks, validates on
        ``val_ds`` after each, and returns the History.
    """
    return judge(FIT, answer, FUNCTION, _fit_problem)
