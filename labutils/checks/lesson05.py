"""Checkers of lesson 05, "Training a U-Net", §10: the epoch early stopping kept, flip averaging."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from labutils.checks.verdict import (
    FUNCTION,
    Exercise,
    Kind,
    Problem,
    Verdict,
    as_number,
    call_student,
    judge,
)

__all__ = ["check_best_epoch", "check_flip_average"]

_BEST_EPOCH = Exercise(
    "Exercise 7 (the epoch validation chose)",
    "Early stopping watched history['val_miou'] and kept its maximum; epochs count from 1.",
)
_FLIP = Exercise(
    "Exercise 8 (flip averaging)",
    "predict the images and their left-right mirrors (axis 2 of (B, H, W, 3)); mirror that "
    "second prediction back, then average the two probabilities.",
)


def _as_epoch(answer: Any) -> int | None:
    """An answer that is one whole number, as an int; else None."""
    value = as_number(answer)
    return None if value is None or value != int(value) else int(value)


_EPOCH = Kind("a whole epoch number", _as_epoch)


def check_best_epoch(answer: Any, history: Any) -> Verdict:
    """Check the 1-based epoch that early stopping restored.

    Exercise of lesson 05, §10 "Reading the curves".

    Args:
        answer: the student's epoch number.
        history: the ``History`` that ``fit`` returned, or its ``history`` dict.

    Returns:
        The verdict: right when ``answer`` is the epoch with the highest ``val_miou``.

    >>> logs = {"val_miou": [0.4, 0.6, 0.5], "miou": [0.4, 0.5, 0.7], "val_loss": [0.9, 0.5, 0.6]}
    >>> check_best_epoch(1, logs)
    ❌ Exercise 7 (the epoch validation chose): epoch 1 is the 0-based index of the best epoch;
       Keras counts epochs from 1.
       Hint: Early stopping watched history['val_miou'] and kept its maximum; epochs count from 1.
    Verdict(passed=False)
    """
    logs = getattr(history, "history", history)
    return judge(_BEST_EPOCH, answer, _EPOCH, lambda epoch: _best_epoch_problem(epoch, logs))


def _best_epoch_problem(epoch: int, logs: dict[str, list[float]]) -> Problem:
    """What is wrong with ``epoch`` as the epoch of the best ``val_miou`` in ``logs``."""
    best = int(np.argmax(logs["val_miou"])) + 1
    if epoch == best:
        return None
    mistakes = [  # the usual wrong answers, most likely first
        (best - 1, "the 0-based index of the best epoch; Keras counts epochs from 1"),
        (int(np.argmax(logs["miou"])) + 1, "the best *training* mean IoU, not the validation one"),
        (int(np.argmin(logs["val_loss"])) + 1, "the lowest validation loss, not the best val_miou"),
        (len(logs["val_miou"]), "the last epoch; early stopping restored the best one"),
    ]
    problem = next((text for wrong, text in mistakes if wrong == epoch), None)
    return f"epoch {epoch} is {problem or 'not the epoch with the best validation mean IoU'}."


def _flip_problem(fn: Any) -> Problem:
    """What is wrong with the student's ``flip_average``, found on a random tiny U-Net."""
    import keras

    from labutils.checks.lesson05_fit import tiny_unet

    keras.utils.set_random_seed(5)  # a random U-Net: its predictions are not mirror-symmetric
    model, images = tiny_unet(), np.random.default_rng(5).random((2, 16, 16, 3), np.float32)
    tf_logger = logging.getLogger("tensorflow")  # the student's predict_on_batch traces this
    level = tf_logger.level  # new model once more, and TensorFlow warns of retracing: not theirs
    tf_logger.setLevel(logging.ERROR)
    try:
        answer = np.asarray(call_student(fn, "flip_average", model, images), np.float32)
    except ValueError as error:
        return str(error)
    finally:
        tf_logger.setLevel(level)

    def predict(batch: np.ndarray) -> np.ndarray:  # a direct call: no tf.function to retrace
        return np.asarray(model(np.ascontiguousarray(batch), training=False))

    plain, mirrored = predict(images), predict(images[:, :, ::-1])
    right = (plain + mirrored[:, :, ::-1]) / 2  # evaluation.flip_average (a test checks it)
    if answer.shape != right.shape:
        labels = answer.shape == right.shape[:-1]
        return (f"it returned shape {answer.shape}, not {right.shape}: "
                + ("labels; average the probabilities, before any argmax." if labels else
                   "one probability per class and pixel, like the model's."))  # fmt: skip
    mistakes = [
        ((plain + mirrored) / 2,
         "the mirrored prediction was not mirrored back, so its pixels miss the image's"),
        ((plain + predict(images[:, ::-1])[:, ::-1]) / 2,
         "that mirrors up-down (axis 1); a pet upside down is not a photo the model trained on: "
         "mirror left-right, axis 2"),
        (plain, "that is the plain prediction: nothing was mirrored"),
        (2 * right, "the sum of the two predictions; divide by 2 so the probabilities sum to 1"),
    ]  # fmt: skip
    if np.allclose(answer, right, atol=1e-5):
        return None
    found = next((text for value, text in mistakes if np.allclose(answer, value, atol=1e-5)), None)
    return (found or "not the average of the two predictions") + "."


def check_flip_average(answer: Any) -> Verdict:
    """Check the student's ``flip_average(model, images)`` against ``evaluation.flip_average``.

    Exercise of lesson 05, §10 "Reading the curves".

    Args:
        answer: a function of a model and float32 images (B, S, S, 3) that returns the
            probabilities (B, S, S, C) averaged with those of the mirrored images.

    Returns:
        The verdict: right when it matches ``evaluation.flip_average`` on a random tiny U-Net.
    """
    return judge(_FLIP, answer, FUNCTION, _flip_problem)
