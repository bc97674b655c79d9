"""Checkers of lesson 05, "Training a U-Net", §5-§7: compile, callbacks, paired augmentation, fit.

Each calls the student's function on a tiny U-Net or batch (Keras is imported only then) and
inspects what it built or returned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from labutils.checks.verdict import FUNCTION, Exercise, Problem, Verdict, call_student, judge
from labutils.vocabulary import NUM_CLASSES

__all__ = ["AUGMENT", "FIT", "check_callbacks", "check_compile", "tiny_unet"]

_COMPILE = Exercise(
    "Exercise 3 (compile)",
    "model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=your ce_dice, "
    "metrics=['accuracy', keras.metrics.MeanIoU(num_classes=3, sparse_y_pred=False, "
    "name='miou')]), then return the model.",
)
_CALLBACKS = Exercise(
    "Exercise 4 (early stopping and a checkpoint)",
    "EarlyStopping(monitor='val_miou', mode='max', patience=patience, "
    "restore_best_weights=True) and ModelCheckpoint(path, monitor='val_miou', mode='max', "
    "save_best_only=True, save_weights_only=True).",
)
AUGMENT = Exercise(
    "Exercise 5 (flip and zoom, image and mask together)",
    "draw the random numbers once per image and apply them to both; resize the image "
    "bilinearly and the mask with 'nearest'.",
)
FIT = Exercise(
    "Exercise 6 (the fit call)",
    "return model.fit(train_ds, validation_data=val_ds, epochs=epochs, callbacks=callbacks).",
)
_LR = 3e-3  # the learning rate the compile check asks for (not Adam's default 1e-3)


def tiny_unet() -> Any:
    """Used by ``labutils.checks.lesson05_augment`` too."""
    from labutils.models import build_unet

    return build_unet(16, base_filters=4, depth=2)


def _metric_problem(metrics: list[Any]) -> Problem:
    """What is wrong with the compiled metrics (``get_compile_config()['metrics']``)."""
    ious = [m for m in metrics or [] if isinstance(m, dict) and m.get("class_name") == "MeanIoU"]
    if not ious:
        return "no keras.metrics.MeanIoU among the metrics: accuracy alone flatters the model."
    config = ious[0]["config"]
    if config["num_classes"] != NUM_CLASSES:
        return f"MeanIoU has num_classes={config['num_classes']}; the masks have {NUM_CLASSES}."
    if config["sparse_y_pred"]:
        return ("MeanIoU has sparse_y_pred=True, so it reads the probabilities as class "
                "indices; the model outputs probabilities: sparse_y_pred=False.")  # fmt: skip
    if config["name"] != "miou":
        return (
            f"the MeanIoU is named {config['name']!r}, so the logs hold "
            f"'val_{config['name']}' and nothing watching 'val_miou' finds it: name='miou'."
        )
    return None


def _compile_problem(fn: Callable[..., Any]) -> Problem:
    import keras
    import tensorflow as tf

    from labutils.checks.lesson05_losses import cases
    from labutils.losses import ce_dice_loss

    model = call_student(fn, "compile_unet", tiny_unet(), _LR)
    if not isinstance(model, keras.Model):
        return f"it returned {type(model).__name__}; return the compiled model."
    if model.optimizer is None:
        return "the model is not compiled: call model.compile(...)."
    if not isinstance(model.optimizer, keras.optimizers.Adam):
        return f"the optimizer is {type(model.optimizer).__name__}; the course trains with Adam."
    if not np.isclose(float(model.optimizer.learning_rate), _LR):
        return (f"Adam's learning rate is {float(model.optimizer.learning_rate):g}, not the "
                f"learning_rate argument ({_LR:g}).")  # fmt: skip
    y_true, y_pred = cases()["random probabilities"]
    loss = float(np.mean(keras.losses.get(model.loss)(tf.constant(y_true), tf.constant(y_pred))))
    if not np.isclose(loss, float(ce_dice_loss(y_true, y_pred)), rtol=1e-4):
        return "the loss is not cross-entropy + Dice (your ce_dice from Exercise 2)."
    return _metric_problem(model.get_compile_config().get("metrics"))


def check_compile(answer: Any) -> Verdict:
    """Check the student's ``compile_unet(model, learning_rate)``.

    Exercise of lesson 05, §5 "Compile: optimizer, loss, metrics".

    Args:
        answer: a function that compiles a U-Net and returns it.

    Returns:
        The verdict: right for Adam at ``learning_rate``, the cross-entropy + Dice loss, and a
        ``MeanIoU`` on probabilities named ``miou``.
    """
    return judge(_COMPILE, answer, FUNCTION, _compile_problem)


def _watch_problem(callback: Any, what: str) -> Problem:
    """What is wrong with what a callback watches: val_miou, to be maximised."""
    monitor = callback.monitor
    if monitor != "val_miou":
        why = {"val_accuracy": "the original lab's choice; accuracy rewards the large classes",
               "miou": "the *training* score; validation must choose",
               "val_loss": "the loss, not the score the course reports"}  # fmt: skip
        why = why.get(monitor, "")
        return (
            f"the {what} watches {monitor!r}" + (f" ({why})" if why else "") + "; watch 'val_miou'."
        )
    if callback.mode != "max":
        return f"the {what} has mode={callback.mode!r}; a higher mean IoU is better: mode='max'."
    return None


def _callbacks_problem(fn: Callable[..., Any]) -> Problem:
    import keras

    found = call_student(fn, "make_fit_callbacks", "best.weights.h5", 7)
    found = list(found) if isinstance(found, (list, tuple)) else [found]
    stops = [c for c in found if isinstance(c, keras.callbacks.EarlyStopping)]
    saves = [c for c in found if isinstance(c, keras.callbacks.ModelCheckpoint)]
    if not stops or not saves:
        missing = "an EarlyStopping" if not stops else "a ModelCheckpoint"
        return f"the list holds no {missing}; return both, in a list."
    stop, save = stops[0], saves[0]
    problem = _watch_problem(stop, "early stop") or _watch_problem(save, "checkpoint")
    if problem:
        return problem
    if stop.patience != 7:
        return f"patience is {stop.patience}, not the patience argument (7 here)."
    if not stop.restore_best_weights:
        return "restore_best_weights is off: the model would keep the *last* epoch's weights."
    if not save.save_best_only or str(save.filepath) != "best.weights.h5":
        return "the checkpoint should write checkpoint_path, and only when val_miou improves."
    return None


def check_callbacks(answer: Any) -> Verdict:
    """Check the student's ``make_fit_callbacks(checkpoint_path, patience)``.

    Exercise of lesson 05, §6 "Callbacks: watch, stop, keep the best".

    Args:
        answer: a function returning a list of Keras callbacks.

    Returns:
        The verdict: right for an EarlyStopping and a best-only ModelCheckpoint, both on
        ``val_miou`` with ``mode="max"``, the early stop restoring the best weights.
    """
    return judge(_CALLBACKS, answer, FUNCTION, _callbacks_problem)
