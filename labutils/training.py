"""The lab's recommended way to train a U-Net: the recipe (:class:`TrainConfig`) and its fit.

Taught in lesson 05, whose parts (``callbacks``, ``losses``, ``dtype_policy``) :func:`train_unet`
assembles; ``python -m labutils train`` runs it with :class:`TrainConfig`'s defaults.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from labutils.callbacks import ProgressiveResize, TimeBudget, make_callbacks
from labutils.dtype_policy import choose_dtype_policy
from labutils.losses import compile_model
from labutils.models import any_image_size, build_unet
from labutils.pipeline import AUTOTUNE, dataset_from_arrays
from labutils.recipe import (  # re-exported: lessons and the command line read them here
    BFLOAT16_CPU_STAGES,
    BFLOAT16_CPU_WIDTH,
    GPU_BATCH_SIZE,
    GPU_TIME_BUDGET_MIN,
    TrainConfig,
    check_config,
    stage_sides,
)

__all__ = [
    "BFLOAT16_CPU_STAGES",
    "BFLOAT16_CPU_WIDTH",
    "GPU_BATCH_SIZE",
    "GPU_TIME_BUDGET_MIN",
    "TrainConfig",
    "check_config",
    "resume_weights",
    "stage_sides",
    "train_unet",
]

_Arrays = tuple[np.ndarray, np.ndarray]  # images (N, S, S, 3) and masks (N, S, S, 1), uint8


def resume_weights(model: keras.Model, path: str | Path) -> bool:
    """Load saved weights into ``model`` if the file exists, to continue an earlier run.

    Taught in lesson 05, §13 "Checkpoints, resuming and saving"; used in lesson 05, §6
    "Callbacks: watch, stop, keep the best".

    Args:
        model: the freshly built model.
        path: a ``.weights.h5`` file written by ``save_weights`` or a checkpoint.

    Returns:
        True if weights were loaded, False if there is no such file (training starts afresh).

    Raises:
        ValueError: the file holds weights of a differently shaped model.
    """
    path = Path(path)
    if not path.is_file():
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # Keras warns once per skipped layer
            model.load_weights(path)
    except ValueError as error:
        pattern = r"variable\.shape=(\(.*?\)), Received: value\.shape=(\(.*?\))"
        shapes = re.search(pattern, str(error))
        detail = (
            f"a layer expects {shapes[1]} but the file holds {shapes[2]}"
            if shapes
            else str(error).strip().split(".")[0]
        )
        raise ValueError(
            f"The weights in {path} do not fit this model ({detail}). They come from a "
            "model with another depth, width or batch-norm setting: build the model with the "
            "settings it was saved with, or delete the file to train from scratch."
        ) from None
    return True


def _pick_strategy() -> tf.distribute.Strategy:
    """MirroredStrategy on several GPUs, else TensorFlow's default (one device, no change)."""
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def _batches(
    data: _Arrays | tf.data.Dataset,
    batch_size: int,
    augment: bool = False,
    shuffle: bool = False,
    full_only: bool = False,
) -> tf.data.Dataset:
    """Batches of arrays (see ``pipeline.dataset_from_arrays``), or a dataset of batches as is.

    ``full_only`` drops each epoch's last, smaller batch of arrays (when there is a full one):
    XLA compiles the step once per batch shape, and a reshuffled epoch leaves out other photos
    each time.

    Raises:
        ValueError: bad arrays, or a dataset of unknown or infinite length.
    """
    if not isinstance(data, tf.data.Dataset):
        ds = dataset_from_arrays(*data, batch_size, augment, shuffle)
        full = len(data[0]) // batch_size
        if full_only and full:
            ds = ds.rebatch(batch_size, drop_remainder=True)
            ds = ds.apply(tf.data.experimental.assert_cardinality(full))
        return ds
    if data.cardinality() < 0:
        raise ValueError(
            "train_unet needs a dataset of known, finite length (a number of batches), so "
            "that its schedule knows the steps of an epoch; build it with "
            "pipeline.make_dataset, or call .apply(tf.data.experimental.assert_cardinality(n))."
        )
    return data


def _graph_validation(model: keras.Model) -> None:
    """Build the validation step as a TensorFlow graph, without XLA, whatever the training's.

    Measured on a 2-core AVX2 CPU: an XLA validation pass took twice as long as the graph's.
    Keras builds one test function per compile; built here, ``fit`` reuses it.
    """
    jit, model.jit_compile = model.jit_compile, False
    model.make_test_function()
    model.jit_compile = jit


def train_unet(
    config: TrainConfig,
    train_data: _Arrays | tf.data.Dataset,
    val_data: _Arrays | tf.data.Dataset,
    callbacks: list[keras.callbacks.Callback] | tuple = (),
    resume_from: str | Path | None = None,
    verbose: int = 0,
    strategy: tf.distribute.Strategy | None = None,
) -> tuple[keras.Model, dict[str, Any]]:
    """Build, compile and fit a U-Net with the recipe in ``config``.

    Used in lesson 06, §1 "The model, and the photos that chose it"; in lesson 07, §3 "Boxes
    from the segmentation model"; and in lesson 09, §5 "A fair comparison: a U-Net
    trained from scratch". Lesson 05 assembles the same fit from its parts, in §4 to §7.

    On several GPUs the model is mirrored (``tf.distribute.MirroredStrategy``), each replica
    taking ``config.batch_size`` images per step. Arrays decoded once (``pipeline.load_arrays``)
    are the fast path: ``train_unet`` batches, shuffles and augments them as ``config`` says.
    A dataset of batches streams instead, for data too large to hold decoded.

    Args:
        config: the recipe.
        train_data: ``(images uint8 (N, S, S, 3), masks uint8 (N, S, S, 1))`` from
            ``pipeline.load_arrays``, or a ``tf.data.Dataset`` of ready batches
            ``(images float32 (B, S, S, 3) in [0, 1], masks int (B, S, S, 1))`` of a known
            length; S must be ``config.model["image_size"]``.
        val_data: the same for validation (metrics after every epoch).
        callbacks: extra callbacks, e.g. a ``callbacks.DisplayCallback``.
        resume_from: a ``.weights.h5`` file to continue from if it exists.
        verbose: Keras ``fit`` verbosity.
        strategy: a ``tf.distribute`` strategy; ``None`` picks MirroredStrategy on several
            GPUs and TensorFlow's default strategy otherwise.

    Returns:
        The trained model, holding the weights of the epoch with the best validation mean
        IoU, and a report: ``history`` (per-epoch lists; ``image_size`` says the side each
        epoch trained at; validation is always at full size), ``epochs_done``,
        ``best_epoch`` (1-based), ``best_val_miou``, ``steps``, ``fit_seconds``, ``resumed``,
        ``dtype_policy`` and ``replicas``.

    Raises:
        ValueError: bad arrays (see ``pipeline.dataset_from_arrays``), a dataset of unknown
            length, weights in ``resume_from`` that do not fit the model, or bad ``stages``
            (see :func:`stage_sides`).
    """
    sides, until = stage_sides(config)
    keras.utils.set_random_seed(config.seed)
    strategy = strategy or _pick_strategy()
    batch_size = config.batch_size * strategy.num_replicas_in_sync
    policy = choose_dtype_policy(config.precision)
    train_ds = _batches(train_data, batch_size, config.augment, shuffle=True,
                        full_only=bool(config.jit_compile))  # fmt: skip
    val_ds = _batches(val_data, batch_size)
    with strategy.scope():
        model = build_unet(**config.model, dtype=policy)
        compile_model(
            model, config.learning_rate, config.loss, jit_compile=config.jit_compile is True
        )
        _graph_validation(model)
    resumed = resume_from is not None and resume_weights(model, resume_from)
    total_steps = int(train_ds.cardinality()) * config.epochs
    budget = TimeBudget(config.learning_rate, total_steps, config.time_budget_min, config.warmup)
    # Validation chooses the model: the weights of the epoch with the best val_miou come back
    # at the end (Keras restores them whether or not it stopped early).
    [best] = make_callbacks(None, config.patience or config.epochs)
    schedule = [budget]
    if sides:  # only the training batches shrink: every epoch validates at full size
        progressive = ProgressiveResize(budget, sides, until, config.jit_compile == "small")
        schedule.append(progressive)
        train_ds = train_ds.map(progressive.resize, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE)
    with any_image_size(model):
        history = model.fit(
            train_ds, validation_data=val_ds, epochs=config.epochs, verbose=verbose,
            shuffle=False,  # train_ds reshuffles itself every epoch
            callbacks=[*schedule, best, *callbacks],
        )  # fmt: skip
    report = {
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "epochs_done": round(budget.epochs_done, 2),
        "best_epoch": best.best_epoch + 1,
        "best_val_miou": round(float(best.best), 4),
        "steps": budget.steps_done,
        "fit_seconds": round(budget.seconds, 1),
        "resumed": bool(resumed),
        "dtype_policy": policy,
        "replicas": strategy.num_replicas_in_sync,
    }
    return model, report
