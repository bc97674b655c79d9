"""The lab's recommended way to train a U-Net, and the callbacks lesson 05 uses.

Taught in ``notebooks/05_training_unet.ipynb``; ``python -m labutils train`` runs
:func:`train_unet` with :class:`TrainConfig`'s defaults. On a CPU, throughput is the
constraint, so the recipe:

- trains on arrays decoded and resized once (``pipeline.load_arrays``), with flips and zooms;
- computes in bfloat16 where the CPU has bfloat16 units (float32 weights, float32 softmax);
- trains the first 30 % of the schedule on images of half the side (a quarter of the pixels,
  so more epochs per minute), when coarse shapes are learnt, and the rest at full size;
- follows a time budget: the learning rate warms up, then decays along a cosine of the
  elapsed *fraction of the budget*, and training stops when the budget is spent, so the
  schedule fits the steps this machine can afford and the run always ends on time;
- minimises cross-entropy plus soft Dice, which lifts the thin, rare border class.
"""

from __future__ import annotations

import math
import re
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from labutils import metrics
from labutils.data import CLASS_NAMES
from labutils.models import any_image_size, build_unet, recommended_config
from labutils.pipeline import AUTOTUNE, dataset_from_arrays

__all__ = [
    "DisplayCallback",
    "FullSizeEarlyStopping",
    "GPU_BATCH_SIZE",
    "GPU_TIME_BUDGET_MIN",
    "MIXED_FLOAT16_MIN_CAPABILITY",
    "ProgressiveResize",
    "TimeBudget",
    "TrainConfig",
    "ce_dice_loss",
    "choose_dtype_policy",
    "compile_model",
    "cosine_learning_rate",
    "evaluate_model",
    "make_callbacks",
    "resume_weights",
    "start_size",
    "train_unet",
]


@dataclass
class TrainConfig:
    """The lab's recommended CPU recipe (``python -m labutils train`` exposes most fields).

    What it reaches on the course's CPU is measured by ``python -m benchmarks.run`` (README,
    *Performance*), not stated here.

    Attributes:
        model: ``build_unet`` arguments (``image_size`` included).
        batch_size: images per step.
        learning_rate: peak learning rate of the warm-up + cosine schedule (Adam).
        epochs: upper bound on epochs; the schedule ends at this or at the budget.
        time_budget_min: wall-clock minutes for ``fit`` (``None``: the epochs decide).
        warmup: fraction of the schedule spent warming up linearly from 0.
        start_scale: the first ``start_fraction`` of the schedule trains on images of this
            fraction of the side (see :class:`ProgressiveResize`); 1.0 trains at full size
            throughout.
        start_fraction: the fraction of the schedule trained at ``start_scale``.
        loss: ``"ce+dice"`` (cross-entropy + soft Dice) or ``"ce"`` (cross-entropy only).
        augment: random flips and zooms of training batches.
        precision: ``"auto"``, ``"float32"``, ``"mixed_bfloat16"`` or ``"mixed_float16"``
            (see choose_dtype_policy).
        patience: early stopping patience in epochs on ``val_miou`` (``None``: no early stop;
            the best validation epoch is kept either way).
        seed: seed of weights, shuffling and augmentation.
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
        end first, instead of the CPU's 13 minutes. Precision stays ``"auto"``
        (``mixed_float16`` on GPUs of compute capability >= 7.0).

        Args:
            device: ``"cpu"``, ``"gpu"``, or ``None`` to use a GPU's defaults when
                TensorFlow sees one.
            overrides: fields to set, e.g. ``epochs=5``.

        Returns:
            A TrainConfig.

        Raises:
            ValueError: ``device`` is not ``"cpu"``, ``"gpu"`` or ``None``.
        """
        if device not in (None, "cpu", "gpu"):
            raise ValueError(f"device must be 'cpu', 'gpu' or None, got {device!r}.")
        if device is None:
            device = "gpu" if tf.config.list_physical_devices("GPU") else "cpu"
        if device == "gpu":
            overrides = {"batch_size": GPU_BATCH_SIZE, "time_budget_min": GPU_TIME_BUDGET_MIN,
                         **overrides}  # fmt: skip
        return cls(**overrides)


#: GPU defaults of :meth:`TrainConfig.for_device` (not measured: no GPU was lent when they
#: were set). 64 images of 128 × 128 fill a T4 far better than 16; 60 minutes is a cap that
#: 300 epochs of the folder's images should not reach, so a GPU trains its epochs out.
GPU_BATCH_SIZE = 64
GPU_TIME_BUDGET_MIN = 60.0

#: GPUs of this CUDA compute capability or newer (Volta, Turing e.g. Colab's T4, Ampere, ...)
#: have float16 tensor cores: ``mixed_float16`` trains there several times faster.
MIXED_FLOAT16_MIN_CAPABILITY = (7, 0)


def cosine_learning_rate(progress: float, peak: float, warmup: float = 0.03) -> float:
    """Learning rate at ``progress`` ∈ [0, 1] of training: linear warm-up, then cosine to 0.

    Args:
        progress: fraction of the schedule done (of the time budget or of the steps).
        peak: the learning rate reached at the end of the warm-up.
        warmup: fraction of the schedule spent warming up.

    Returns:
        The learning rate, in [0, peak].
    """
    progress = min(max(progress, 0.0), 1.0)
    if progress < warmup:
        return peak * progress / warmup
    return peak * 0.5 * (1.0 + math.cos(math.pi * (progress - warmup) / (1.0 - warmup)))


class TimeBudget(keras.callbacks.Callback):
    """Set the learning rate from the elapsed fraction of a budget and stop when it is spent.

    Progress is the larger of (elapsed time / ``minutes``) and (steps done / ``total_steps``),
    so whichever limit comes first ends training with the learning rate decayed to ~0.
    After ``fit``, ``epochs_done``, ``steps_done`` and ``seconds`` say what was afforded;
    ``learning_rate`` is the last rate set (also logged per epoch as ``learning_rate``).

    Args:
        peak_lr: peak learning rate (see :func:`cosine_learning_rate`).
        total_steps: steps of ``epochs × steps_per_epoch``.
        minutes: the wall-clock budget, or ``None`` for a step-based schedule only.
        warmup: fraction of the schedule spent warming up.
    """

    def __init__(
        self, peak_lr: float, total_steps: int, minutes: float | None = None, warmup: float = 0.03
    ) -> None:
        super().__init__()
        self.peak_lr, self.total_steps, self.warmup = peak_lr, max(total_steps, 1), warmup
        self.budget_s = None if minutes is None else 60.0 * minutes
        self.steps_done, self.epochs_done, self.seconds, self.learning_rate = 0, 0.0, 0.0, 0.0
        self._start = self._epoch_steps = 0

    def progress(self) -> float:
        """Fraction of the schedule done, in [0, 1]."""
        by_steps = self.steps_done / self.total_steps
        if self.budget_s is None:
            return by_steps
        return max(by_steps, (time.perf_counter() - self._start) / self.budget_s)

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_steps = 0

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.learning_rate = cosine_learning_rate(self.progress(), self.peak_lr, self.warmup)
        self.model.optimizer.learning_rate.assign(self.learning_rate)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.steps_done += 1
        self._epoch_steps += 1
        if self.progress() >= 1.0:
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        steps_per_epoch = self.params.get("steps") or self._epoch_steps
        self.epochs_done = epoch + self._epoch_steps / max(steps_per_epoch, 1)
        self.seconds = time.perf_counter() - self._start
        if logs is not None:
            logs["learning_rate"] = self.learning_rate


class ProgressiveResize(keras.callbacks.Callback):
    """Train on smaller images for the first part of the schedule, then at full size.

    Half the side is a quarter of the pixels, so early epochs, which learn coarse shapes, run
    faster (less than 4× on a CPU, where small images use it less efficiently); the later
    ones learn the detail at full size ("progressive resizing").
    Map :meth:`resize` over the training dataset; every epoch that *begins* before
    ``fraction`` of the budget's schedule trains at ``size``. Validate at full size, so that
    every epoch's score is comparable and can choose the model. The training side of each
    epoch is logged as ``image_size``. The model must accept any side while it trains
    (``models.any_image_size``).

    Args:
        budget: the :class:`TimeBudget` whose progress decides the switch.
        size: the side of the images early on (a multiple of ``2**depth``).
        fraction: the fraction of the schedule trained at ``size``.
    """

    def __init__(self, budget: TimeBudget, size: int, fraction: float) -> None:
        super().__init__()
        self.budget, self.size, self.fraction = budget, size, fraction
        self.small = tf.Variable(True, trainable=False, name="train_small")  # read by resize

    def resize(self, images: tf.Tensor, masks: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Shrink a batch (images by area averaging, masks by nearest label) while small."""

        def shrink() -> tuple[tf.Tensor, tf.Tensor]:
            side = (self.size, self.size)
            return tf.image.resize(images, side, "area"), tf.image.resize(masks, side, "nearest")

        return tf.cond(self.small, shrink, lambda: (images, masks))

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.small.assign(self.budget.progress() < self.fraction)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            small = bool(self.small.numpy())
            logs["image_size"] = self.size if small else self.model.input_shape[1]


class FullSizeEarlyStopping(keras.callbacks.EarlyStopping):
    """``EarlyStopping`` whose patience counts only the epochs trained at full size.

    Under :class:`ProgressiveResize` the first epochs train on small images while
    validating at full size, so their scores are low and noisy: they still compete for the
    best weights, but they must not use up the patience before the real training starts.
    Without ``image_size`` in the logs it is Keras's ``EarlyStopping``.
    """

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        full_size = self.model.input_shape[1]
        if (logs or {}).get("image_size", full_size) < full_size:
            self.wait -= 1  # Keras adds 1 for every epoch without improvement: not this one
        super().on_epoch_end(epoch, logs)


def start_size(config: TrainConfig) -> int | None:
    """The side of the first epochs' images under ``config``, or None for full size throughout.

    ``start_scale`` × the model's side, rounded down to a multiple of ``2**depth`` so that the
    skip connections line up.

    Raises:
        ValueError: ``start_scale`` outside (0, 1] or ``start_fraction`` outside [0, 1].
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


class DisplayCallback(keras.callbacks.Callback):
    """Every ``every`` epochs, show image / true mask / predicted mask for a fixed batch.

    Args:
        images: float32 (N, S, S, 3) in [0, 1], a fixed validation batch.
        masks: int (N, S, S, 1), values 0..2.
        every: show after epochs every, 2·every, ... (1-based).
        max_images: rows shown (the first ones of the batch).
    """

    def __init__(self, images: Any, masks: Any, every: int = 5, max_images: int = 3) -> None:
        super().__init__()
        self.images = np.asarray(images)[:max_images]
        self.masks = np.asarray(masks)[:max_images]
        self.every = every

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if (epoch + 1) % self.every == 0:
            fig = self.plot(epoch)
            plt.show()
            plt.close(fig)

    def plot(self, epoch: int) -> plt.Figure:
        """Draw the batch with the current model's predictions, in the course's colours.

        Args:
            epoch: the 0-based epoch just finished (shown in the titles).

        Returns:
            The Figure of ``viz.show_overlays``: one row per image (image, true mask,
            predicted mask over it) and the class legend.
        """
        from labutils import viz  # pictures come last in the package's flow

        probs = self.model.predict(self.images, verbose=0)  # (N, S, S, C) float32
        pred_masks = np.argmax(probs, axis=-1)  # (N, S, S) int64
        titles = [f"epoch {epoch + 1}"] * len(self.images)
        return viz.show_overlays(self.images, self.masks, pred_masks, titles, size=2.2)


@keras.saving.register_keras_serializable(package="labutils")
def ce_dice_loss(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
    """Sparse cross-entropy plus soft Dice loss (1 − mean soft Dice over the classes).

    The Dice term weighs every class equally whatever its pixel share, which pushes the model
    to get the thin border class right; cross-entropy keeps per-pixel gradients well behaved.

    Args:
        y_true: int (B, H, W, 1) class indices.
        y_pred: float (B, H, W, C) probabilities.

    Returns:
        A scalar float32 loss.
    """
    y_pred = keras.ops.cast(y_pred, "float32")
    num_classes = keras.ops.shape(y_pred)[-1]
    one_hot = keras.ops.one_hot(keras.ops.cast(y_true[..., 0], "int32"), num_classes)
    ce = keras.ops.mean(keras.losses.sparse_categorical_crossentropy(y_true, y_pred))
    axes = (0, 1, 2)
    overlap = keras.ops.sum(one_hot * y_pred, axis=axes)  # (C,)
    total = keras.ops.sum(one_hot, axis=axes) + keras.ops.sum(y_pred, axis=axes)  # (C,)
    dice = (2.0 * overlap + 1.0) / (total + 1.0)
    return ce + 1.0 - keras.ops.mean(dice)


def choose_dtype_policy(precision: str = "auto") -> str:
    """Pick the Keras dtype policy for training.

    ``"auto"`` gives, on a CUDA GPU, ``"mixed_float16"`` when every GPU has compute
    capability >= 7.0 (:data:`MIXED_FLOAT16_MIN_CAPABILITY`, float16 tensor cores) and
    ``"float32"`` on older ones; on a CPU, ``"mixed_bfloat16"`` where it has bfloat16 units
    (AVX512-BF16 or AMX, about 4× faster than float32 here) and ``"float32"`` elsewhere.
    Under either mixed policy weights stay float32 and the models' softmax is float32;
    :func:`compile_model` adds Keras's loss scaling for ``"mixed_float16"``.

    Args:
        precision: ``"auto"``, ``"float32"``, ``"mixed_bfloat16"`` or ``"mixed_float16"``.

    Returns:
        ``"float32"``, ``"mixed_bfloat16"`` or ``"mixed_float16"``.

    Raises:
        ValueError: for any other ``precision``.
    """
    if precision in ("float32", "mixed_bfloat16", "mixed_float16"):
        return precision
    if precision != "auto":
        raise ValueError(
            f"precision must be 'auto', 'float32', 'mixed_bfloat16' or 'mixed_float16', got "
            f"{precision!r}."
        )
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        capabilities = [
            tf.config.experimental.get_device_details(gpu).get("compute_capability") or (0, 0)
            for gpu in gpus
        ]  # e.g. (7, 5) for a T4; absent on non-CUDA GPUs
        return "mixed_float16" if min(capabilities) >= MIXED_FLOAT16_MIN_CAPABILITY else "float32"
    cpuinfo = Path("/proc/cpuinfo")
    flags = set(cpuinfo.read_text().split()) if cpuinfo.is_file() else set()
    return "mixed_bfloat16" if flags & {"avx512_bf16", "amx_bf16"} else "float32"


def compile_model(
    model: keras.Model, learning_rate: float = 1e-3, loss: str = "ce+dice", num_classes: int = 3
) -> keras.Model:
    """Compile with Adam, the chosen loss, pixel accuracy and mean IoU (``"miou"``).

    A model with ``mixed_float16`` layers gets Adam wrapped in Keras's
    ``LossScaleOptimizer`` (dynamic loss scaling, so small float16 gradients do not vanish).

    Args:
        model: a model whose output is softmax probabilities (B, H, W, C).
        learning_rate: Adam's (initial) learning rate.
        loss: ``"ce+dice"`` (:func:`ce_dice_loss`) or ``"ce"`` (sparse cross-entropy).
        num_classes: number of classes C, for the mean IoU.

    Returns:
        The same model, compiled.

    Raises:
        ValueError: for an unknown ``loss``.
    """
    losses = {"ce+dice": ce_dice_loss, "ce": "sparse_categorical_crossentropy"}
    if loss not in losses:
        raise ValueError(f"loss must be one of {sorted(losses)}, got {loss!r}.")
    optimizer = keras.optimizers.Adam(learning_rate)
    if any(layer.dtype_policy.name == "mixed_float16" for layer in model.layers):
        # What Keras's compile does itself when the *model's* policy is mixed_float16; ours
        # set the policy per layer, so compile would not: scale the loss against underflow.
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    model.compile(
        optimizer=optimizer,
        loss=losses[loss],
        metrics=[
            "accuracy",
            keras.metrics.MeanIoU(num_classes=num_classes, sparse_y_pred=False, name="miou"),
        ],
    )
    return model


def make_callbacks(
    checkpoint_path: str | Path | None = None, patience: int | None = 5
) -> list[keras.callbacks.Callback]:
    """Checkpointing of the best weights and early stopping, both judged on ``val_miou``.

    Args:
        checkpoint_path: a ``.weights.h5`` file for the best weights so far (``None``: none).
        patience: epochs at full size without a better ``val_miou`` before stopping
            (:class:`FullSizeEarlyStopping`); the best weights are restored at the end
            (``None``: no early stopping).

    Returns:
        The callbacks, for ``model.fit(..., callbacks=...)``.
    """
    callbacks: list[keras.callbacks.Callback] = []
    if checkpoint_path is not None:
        callbacks.append(
            keras.callbacks.ModelCheckpoint(
                str(checkpoint_path), monitor="val_miou", mode="max",
                save_best_only=True, save_weights_only=True,
            )
        )  # fmt: skip
    if patience is not None:
        callbacks.append(
            FullSizeEarlyStopping(
                monitor="val_miou", mode="max", patience=patience, restore_best_weights=True
            )
        )
    return callbacks


def resume_weights(model: keras.Model, path: str | Path) -> bool:
    """Load saved weights into ``model`` if the file exists, to continue an earlier run.

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
    data: tuple[np.ndarray, np.ndarray] | tf.data.Dataset,
    batch_size: int,
    augment: bool = False,
    shuffle: bool = False,
) -> tf.data.Dataset:
    """Batches of arrays (see ``pipeline.dataset_from_arrays``), or a dataset of batches as is.

    Raises:
        ValueError: a dataset of unknown or infinite length (the schedule needs the steps
            of an epoch), or bad arrays.
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
    train_data: tuple[np.ndarray, np.ndarray] | tf.data.Dataset,
    val_data: tuple[np.ndarray, np.ndarray] | tf.data.Dataset,
    callbacks: list[keras.callbacks.Callback] | tuple = (),
    resume_from: str | Path | None = None,
    verbose: int = 0,
    strategy: tf.distribute.Strategy | None = None,
) -> tuple[keras.Model, dict[str, Any]]:
    """Build, compile and fit a U-Net with the recipe in ``config``.

    On several GPUs the model is mirrored (``tf.distribute.MirroredStrategy``) and each
    replica gets ``config.batch_size`` images per step; on one device nothing changes.

    Training data comes in one of two forms. Arrays decoded once (``pipeline.load_arrays``)
    are the fast path: every epoch costs only the model's arithmetic; ``train_unet`` batches,
    shuffles and augments them as ``config`` says. A dataset of batches streams instead,
    e.g. ``pipeline.make_dataset(split, source, S, config.batch_size, augment=True,
    cache=False)``, which decodes the files again every epoch and holds only a shuffle
    buffer in memory: for datasets too large to hold decoded.

    Args:
        config: the recipe.
        train_data: ``(images uint8 (N, S, S, 3), masks uint8 (N, S, S, 1))`` from
            ``pipeline.load_arrays``, or a ``tf.data.Dataset`` of ready batches
            ``(images float32 (B, S, S, 3) in [0, 1], masks int (B, S, S, 1))`` of a known
            length; S must be ``config.model["image_size"]``.
        val_data: the same for validation (metrics after every epoch).
        callbacks: extra callbacks, e.g. a :class:`DisplayCallback`.
        resume_from: a ``.weights.h5`` file to continue from if it exists.
        verbose: Keras ``fit`` verbosity.
        strategy: a ``tf.distribute`` strategy; ``None`` picks MirroredStrategy on several
            GPUs and TensorFlow's default strategy otherwise.

    Returns:
        The trained model, holding the weights of the epoch with the best validation mean
        IoU, and a report: ``history`` (per-epoch lists; ``image_size`` says the side each
        epoch trained at; validation is always at full size), ``epochs_done``,
        ``best_epoch`` (1-based) and ``best_val_miou``,
        ``steps``, ``fit_seconds``, ``resumed``, ``dtype_policy``, ``replicas``.

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
    steps_per_epoch = int(train_ds.cardinality())
    budget = TimeBudget(
        config.learning_rate, steps_per_epoch * config.epochs, config.time_budget_min, config.warmup
    )
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


def evaluate_model(
    model: keras.Model, dataset: tf.data.Dataset, num_classes: int = 3, verbose: bool = False
) -> dict[str, Any]:
    """Score a model on a dataset by accumulating one confusion matrix over all batches.

    When the masks are larger or smaller than the model's output, the predicted
    probabilities are resized bilinearly to the masks' size before the argmax, so that
    models of any input size are compared at the same resolution.

    Args:
        model: maps images (B, S, S, 3) to probabilities (B, S, S, C).
        dataset: batches of ``(images float32 (B, S, S, 3), masks int (B, M, M, 1))``.
        num_classes: number of classes C.
        verbose: report progress on stderr.

    Returns:
        ``miou``, ``iou_per_class`` and ``dice_per_class`` (by class name), ``mean_dice``,
        ``pixel_accuracy``, ``images`` (how many were scored) and ``confusion_matrix``
        (C × C counts, rows = truth).

    Raises:
        ValueError: if the dataset is empty.
    """
    cm = np.zeros((num_classes, num_classes), np.int64)
    images_seen = 0
    for images, masks in dataset:
        probs = model.predict_on_batch(images)  # (B, S, S, C) float32
        if probs.shape[1:3] != masks.shape[1:3]:
            probs = tf.image.resize(probs, masks.shape[1:3], "bilinear")
        pred_masks = np.argmax(probs, axis=-1)  # (B, M, M) int64
        cm += metrics.confusion_matrix(masks.numpy(), pred_masks, num_classes)
        if verbose and (images_seen + len(images)) // 256 > images_seen // 256:
            print(f"  evaluated {images_seen + len(images)} images", file=sys.stderr)
        images_seen += len(images)
    if not images_seen:
        raise ValueError("Nothing to evaluate: the dataset holds no images.")
    iou, dice = metrics.iou_from_confusion(cm), metrics.dice_from_confusion(cm)
    names = CLASS_NAMES if num_classes == len(CLASS_NAMES) else range(num_classes)
    return {
        "miou": float(np.nanmean(iou)),
        "iou_per_class": {str(n): float(v) for n, v in zip(names, iou, strict=True)},
        "mean_dice": float(np.nanmean(dice)),
        "dice_per_class": {str(n): float(v) for n, v in zip(names, dice, strict=True)},
        "pixel_accuracy": float(np.trace(cm) / cm.sum()),
        "images": images_seen,
        "confusion_matrix": cm.tolist(),
    }
