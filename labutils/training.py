"""The lab's recommended way to train a U-Net: the recipe (:class:`TrainConfig`) and its fit.

Taught in lesson 05, whose parts (``callbacks``, ``losses``, ``precision``) :func:`train_unet`
assembles; ``python -m labutils train`` runs it with :class:`TrainConfig`'s defaults.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from labutils.callbacks import ProgressiveResize, TimeBudget, make_callbacks
from labutils.losses import compile_model
from labutils.models import any_image_size, build_unet, recommended_config
from labutils.pipeline import AUTOTUNE, dataset_from_arrays
from labutils.precision import choose_dtype_policy

__all__ = [
    "GPU_BATCH_SIZE",
    "GPU_TIME_BUDGET_MIN",
    "TrainConfig",
    "resume_weights",
    "start_size",
    "train_unet",
]

#: GPU defaults of :meth:`TrainConfig.for_device` (set without measuring: no GPU was lent):
#: larger batches, and a budget meant as a cap that the epochs end first.
GPU_BATCH_SIZE = 64
GPU_TIME_BUDGET_MIN = 60.0

_Arrays = tuple[np.ndarray, np.ndarray]  # images (N, S, S, 3) and masks (N, S, S, 1), uint8


@dataclass
class TrainConfig:
    """The lab's recommended CPU recipe (``python -m labutils train`` exposes most fields).

    Used in lesson 05, §5 "Fitting it into a quarter of an hour on a CPU (optional)"; in
    lesson 06, §1 "The model, and the photos that chose it"; in lesson 07, §3 "Boxes from
    the segmentation model"; and in lesson 08, §5 "The same minutes for lesson 05's U-Net".
    What it reaches is measured by ``python -m benchmarks.run``, not stated here.

    Attributes:
        model: ``build_unet`` arguments (``image_size`` included).
        batch_size: images per step.
        learning_rate: peak learning rate of the warm-up + cosine schedule (Adam).
        epochs: upper bound on epochs; the schedule ends at this or at the budget.
        time_budget_min: wall-clock minutes for ``fit`` (``None``: the epochs decide).
        warmup: fraction of the schedule spent warming up linearly from 0.
        start_scale: the side of the first ``start_fraction``'s images, as a fraction of the
            full side (``callbacks.ProgressiveResize``); 1.0 trains at full size throughout.
        start_fraction: the fraction of the schedule trained at ``start_scale``.
        loss: ``"ce+dice"`` (cross-entropy + soft Dice) or ``"ce"`` (cross-entropy only).
        augment: random flips and zooms of training batches.
        precision: ``"auto"`` or a dtype policy (see ``precision.choose_dtype_policy``).
        patience: early stopping patience in epochs on ``val_miou`` (``None``: no early stop;
            the best validation epoch is kept either way).
        seed: seed of weights, shuffling and augmentation.

    >>> config = TrainConfig(epochs=5)
    >>> config.epochs, config.model["image_size"], config.loss
    (5, 128, 'ce+dice')
    """

    model: dict[str, Any] = field(default_factory=recommended_config)
    batch_size: int = 16
    learning_rate: float = 2e-3
    epochs: int = 300
    time_budget_min: float | None = 13.0
    warmup: float = 0.03
    start_scale: float = 0.5
    start_fraction: float = 0.3
    loss: str = "ce+dice"
    augment: bool = True
    precision: str = "auto"
    patience: int | None = None
    seed: int = 42

    @classmethod
    def for_device(cls, device: str | None = None, **overrides: Any) -> TrainConfig:
        """The recommended recipe for a CPU (the field defaults) or for a GPU.

        On a GPU the steps are cheap, so batches are larger (:data:`GPU_BATCH_SIZE`) and
        the budget is a generous cap (:data:`GPU_TIME_BUDGET_MIN`) that the epochs normally
        end first, instead of the CPU's ``time_budget_min``. Precision stays ``"auto"``.

        Args:
            device: ``"cpu"``, ``"gpu"``, or ``None`` to use a GPU's defaults when
                TensorFlow sees one.
            overrides: fields to set, e.g. ``epochs=5``.

        Returns:
            A TrainConfig.

        Raises:
            ValueError: ``device`` is not ``"cpu"``, ``"gpu"`` or ``None``.

        >>> TrainConfig.for_device("gpu").batch_size == GPU_BATCH_SIZE
        True
        >>> TrainConfig.for_device("cpu", epochs=5) == TrainConfig(epochs=5)
        True
        """
        if device not in (None, "cpu", "gpu"):
            raise ValueError(f"device must be 'cpu', 'gpu' or None, got {device!r}.")
        if device is None:
            device = "gpu" if tf.config.list_physical_devices("GPU") else "cpu"
        if device == "gpu":
            overrides = {"batch_size": GPU_BATCH_SIZE, "time_budget_min": GPU_TIME_BUDGET_MIN,
                         **overrides}  # fmt: skip
        return cls(**overrides)


def start_size(config: TrainConfig) -> int | None:
    """The side of the first epochs' images under ``config``, or None for full size throughout.

    Used in lesson 05, §5 "Fitting it into a quarter of an hour on a CPU (optional)", which
    computes it inline, and by :func:`train_unet` for ``callbacks.ProgressiveResize``.

    ``start_scale`` × the model's side, rounded down to a multiple of ``2**depth`` so that the
    skip connections line up.

    Raises:
        ValueError: ``start_scale`` outside (0, 1] or ``start_fraction`` outside [0, 1].

    >>> start_size(TrainConfig(model={"image_size": 128, "depth": 4}, start_scale=0.4))
    48
    >>> start_size(TrainConfig(start_scale=1.0)) is None  # full size throughout
    True
    """
    if not 0.0 < config.start_scale <= 1.0 or not 0.0 <= config.start_fraction <= 1.0:
        raise ValueError(
            f"start_scale must lie in (0, 1] and start_fraction in [0, 1]; got "
            f"{config.start_scale} and {config.start_fraction}. Use start_scale=1.0 to train "
            "at full size throughout."
        )
    side, multiple = config.model["image_size"], 2 ** config.model.get("depth", 3)
    small = int(side * config.start_scale) // multiple * multiple
    return small if 0 < small < side and config.start_fraction > 0 else None


def resume_weights(model: keras.Model, path: str | Path) -> bool:
    """Load saved weights into ``model`` if the file exists, to continue an earlier run.

    Taught in lesson 05, §10 "Checkpoints, resuming and saving"; used in lesson 05, §6
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
    data: _Arrays | tf.data.Dataset, batch_size: int, augment: bool = False, shuffle: bool = False
) -> tf.data.Dataset:
    """Batches of arrays (see ``pipeline.dataset_from_arrays``), or a dataset of batches as is.

    Raises:
        ValueError: bad arrays, or a dataset of unknown or infinite length.
    """
    if not isinstance(data, tf.data.Dataset):
        return dataset_from_arrays(*data, batch_size, augment, shuffle)
    if data.cardinality() < 0:
        raise ValueError(
            "train_unet needs a dataset of known, finite length (a number of batches), so "
            "that its schedule knows the steps of an epoch; build it with "
            "pipeline.make_dataset, or call .apply(tf.data.experimental.assert_cardinality(n))."
        )
    return data


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
    from the segmentation model"; and in lesson 08, §5 "The same minutes for lesson 05's
    U-Net". Lesson 05 assembles the same fit from its parts, in §4 to §7.

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
            length, weights in ``resume_from`` that do not fit the model, or a bad
            ``start_scale`` or ``start_fraction`` (see :func:`start_size`).
    """
    small_side = start_size(config)
    keras.utils.set_random_seed(config.seed)
    strategy = strategy or _pick_strategy()
    batch_size = config.batch_size * strategy.num_replicas_in_sync
    train_ds = _batches(train_data, batch_size, config.augment, shuffle=True)
    val_ds = _batches(val_data, batch_size)
    policy = choose_dtype_policy(config.precision)
    with strategy.scope():
        model = build_unet(**config.model, dtype=policy)
        compile_model(model, config.learning_rate, config.loss)
    resumed = resume_from is not None and resume_weights(model, resume_from)
    total_steps = int(train_ds.cardinality()) * config.epochs
    budget = TimeBudget(config.learning_rate, total_steps, config.time_budget_min, config.warmup)
    # Validation chooses the model: the weights of the epoch with the best val_miou come back
    # at the end (Keras restores them whether or not it stopped early).
    [best] = make_callbacks(None, config.patience or config.epochs)
    schedule = [budget]
    if small_side:  # only the training batches shrink: every epoch validates at full size
        progressive = ProgressiveResize(budget, small_side, config.start_fraction)
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
