"""The callbacks of lesson 05's ``fit``: the time budget, small images first, watch, stop, keep.

:class:`TimeBudget` and :class:`ProgressiveResize` are the schedule (lesson 05, §8);
:class:`DisplayCallback` and :func:`make_callbacks` watch the model, stop early and keep the
best weights (lesson 05, §6). ``training.train_unet`` uses them all.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

__all__ = [
    "DisplayCallback",
    "FullSizeEarlyStopping",
    "ProgressiveResize",
    "TimeBudget",
    "cosine_learning_rate",
    "make_callbacks",
]


def cosine_learning_rate(progress: float, peak: float, warmup: float = 0.03) -> float:
    """Learning rate at ``progress`` ∈ [0, 1] of training: linear warm-up, then cosine to 0.

    Taught in lesson 05, §8 "Fitting it into a few minutes on a CPU (optional)".

    Args:
        progress: fraction of the schedule done (of the time budget or of the steps).
        peak: the learning rate reached at the end of the warm-up.
        warmup: fraction of the schedule spent warming up.

    Returns:
        The learning rate, in [0, peak].

    >>> [round(cosine_learning_rate(p, 1.0, warmup=0.1), 3) for p in (0, 0.05, 0.1, 0.55, 1)]
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    progress = min(max(progress, 0.0), 1.0)
    if progress < warmup:
        return peak * progress / warmup
    return peak * 0.5 * (1.0 + math.cos(math.pi * (progress - warmup) / (1.0 - warmup)))


class TimeBudget(keras.callbacks.Callback):
    """Set the learning rate from the elapsed fraction of a budget and stop when it is spent.

    Taught in lesson 05, §8 "Fitting it into a few minutes on a CPU (optional)". Used
    in lesson 09, §4 "Freezing, fine-tuning and batch normalisation".

    Progress is the larger of (elapsed time / ``minutes``) and (steps done / ``total_steps``),
    so whichever limit comes first ends training with the learning rate decayed to ~0.
    After ``fit``, ``epochs_done``, ``steps_done`` and ``seconds`` say what was afforded;
    ``learning_rate`` is the last rate set (also logged per epoch as ``learning_rate``), and
    ``train_seconds`` logs each epoch's training time, its validation pass left out.

    Args:
        peak_lr: peak learning rate (see :func:`cosine_learning_rate`).
        total_steps: steps of ``epochs × steps_per_epoch``.
        minutes: the wall-clock budget, or ``None`` for a step-based schedule only.
        warmup: fraction of the schedule spent warming up.

    >>> budget = TimeBudget(1e-3, total_steps=10)
    >>> budget.steps_done = 5
    >>> budget.progress()
    0.5
    """

    def __init__(
        self, peak_lr: float, total_steps: int, minutes: float | None = None, warmup: float = 0.03
    ) -> None:
        super().__init__()
        self.peak_lr, self.total_steps, self.warmup = peak_lr, max(total_steps, 1), warmup
        self.budget_s = None if minutes is None else 60.0 * minutes
        self.steps_done, self.epochs_done, self.seconds, self.learning_rate = 0, 0.0, 0.0, 0.0
        self._start = self._epoch_steps = self._epoch_start = self._last_step = 0.0

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
        self._epoch_start = self._last_step = time.perf_counter()

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.learning_rate = cosine_learning_rate(self.progress(), self.peak_lr, self.warmup)
        self.model.optimizer.learning_rate.assign(self.learning_rate)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.steps_done += 1
        self._epoch_steps += 1
        self._last_step = time.perf_counter()
        if self.progress() >= 1.0:
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        steps_per_epoch = self.params.get("steps") or self._epoch_steps
        self.epochs_done = epoch + self._epoch_steps / max(steps_per_epoch, 1)
        self.seconds = time.perf_counter() - self._start
        if logs is not None:
            logs["learning_rate"] = self.learning_rate
            logs["train_seconds"] = self._last_step - self._epoch_start


class ProgressiveResize(keras.callbacks.Callback):
    """Train on smaller images for the first parts of the schedule, then at full size.

    Taught in lesson 05, §8 "Fitting it into a few minutes on a CPU (optional)".

    Half the side is a quarter of the pixels, so early epochs, which learn coarse shapes, run
    faster; the later ones learn the detail at full size ("progressive resizing").
    Map :meth:`resize` over the training dataset; an epoch that *begins* before
    ``until[i]`` of the budget's schedule (and after ``until[i - 1]``) trains at
    ``sides[i]``, and every later epoch at full size. Validate at full size, so that every
    epoch's score is comparable and can choose the model. The training side of each epoch
    is logged as ``image_size``. The model must accept any side while it trains
    (``models.any_image_size``).

    Args:
        budget: the :class:`TimeBudget` whose progress decides the switches.
        sides: the sides of the images of each stage (multiples of ``2**depth``).
        until: the fraction of the schedule at which each stage ends, increasing.
        xla_when_small: compile the training step with XLA during the small stages only
            (switched at the epoch where the side changes; the benchmark's lever table
            measures it).

    Raises:
        ValueError: ``sides`` and ``until`` of different lengths, or ``until`` not
            increasing within [0, 1].

    >>> budget = TimeBudget(1e-3, total_steps=10)
    >>> progressive = ProgressiveResize(budget, sides=(8, 12), until=(0.3, 0.6))
    >>> images, masks = progressive.resize(tf.zeros((2, 16, 16, 3)), tf.zeros((2, 16, 16, 1)))
    >>> images.shape, masks.shape  # 8 × 8 until 30 % of the schedule is done
    (TensorShape([2, 8, 8, 3]), TensorShape([2, 8, 8, 1]))
    """

    def __init__(
        self,
        budget: TimeBudget,
        sides: tuple[int, ...],
        until: tuple[float, ...],
        xla_when_small: bool = False,
    ) -> None:
        super().__init__()
        ends = [0.0, *until]
        if (
            len(sides) != len(until)
            or any(b <= a for a, b in zip(ends, ends[1:], strict=False))
            or ends[-1] > 1
        ):
            raise ValueError(
                f"ProgressiveResize needs one end per side and increasing ends in (0, 1]; got "
                f"sides {tuple(sides)} and until {tuple(until)}."
            )
        self.budget, self.sides, self.until = budget, tuple(sides), tuple(until)
        self.xla_when_small = xla_when_small
        self.side = tf.Variable(self._side_at(0.0), trainable=False, name="train_side")

    def _side_at(self, progress: float) -> int:
        """The stage's side at ``progress``, or 0 for full size."""
        later = [i for i, end in enumerate(self.until) if progress < end]
        return self.sides[later[0]] if later else 0  # no zip: autograph converts this class

    def resize(self, images: tf.Tensor, masks: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Shrink a batch (images by area averaging, masks by nearest label) while small."""
        side = self.side.read_value()

        def shrink() -> tuple[tf.Tensor, tf.Tensor]:
            size = tf.stack([side, side])
            return tf.image.resize(images, size, "area"), tf.image.resize(masks, size, "nearest")

        return tf.cond(side > 0, shrink, lambda: (images, masks))

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.side.assign(self._side_at(self.budget.progress()))
        xla = self.xla_when_small and int(self.side.numpy()) > 0
        if self.xla_when_small and bool(self.model.jit_compile) != xla:
            self.model.jit_compile = xla
            self.model.make_train_function(force=True)  # fit calls model.train_function

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["image_size"] = int(self.side.numpy()) or self.model.input_shape[1]


class FullSizeEarlyStopping(keras.callbacks.EarlyStopping):
    """``EarlyStopping`` whose patience counts only the epochs trained at full size.

    Used in lesson 05, §6 "Callbacks: watch, stop, keep the best" (by :func:`make_callbacks`).

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


class DisplayCallback(keras.callbacks.Callback):
    """Every ``every`` epochs, show image / true mask / predicted mask for a fixed batch.

    Taught in lesson 05, §6 "Callbacks: watch, stop, keep the best".

    The pictures are ``viz.show_overlays``'s, so the callback shows the course's one palette
    and class legend.

    Args:
        images: float32 (N, S, S, 3) in [0, 1], a fixed validation batch.
        masks: int (N, S, S, 1), class indices 0 .. ``NUM_CLASSES`` − 1.
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


def make_callbacks(
    checkpoint_path: str | Path | None = None, patience: int | None = 5
) -> list[keras.callbacks.Callback]:
    """Checkpointing of the best weights and early stopping, both judged on ``val_miou``.

    Taught in lesson 05, §6 "Callbacks: watch, stop, keep the best".

    Args:
        checkpoint_path: a ``.weights.h5`` file for the best weights so far (``None``: none).
        patience: epochs at full size without a better ``val_miou`` before stopping
            (:class:`FullSizeEarlyStopping`); the best weights are restored at the end
            (``None``: no early stopping).

    Returns:
        The callbacks, for ``model.fit(..., callbacks=...)``.

    >>> [type(callback).__name__ for callback in make_callbacks("best.weights.h5", 3)]
    ['ModelCheckpoint', 'FullSizeEarlyStopping']
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
