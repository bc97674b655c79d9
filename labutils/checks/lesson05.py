"""Checker of lesson 05, "Training a U-Net": the epoch that early stopping kept."""

from __future__ import annotations

from typing import Any

import numpy as np

from labutils.checks.verdict import Exercise, Kind, Problem, Verdict, as_number, judge

__all__ = ["check_best_epoch"]

_BEST_EPOCH = Exercise(
    "Exercise 7 (the epoch validation chose)",
    "Early stopping watched history['val_miou'] and kept its maximum; epochs count from 1.",
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
