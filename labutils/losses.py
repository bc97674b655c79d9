"""Lesson 05's loss, metrics and optimizer: cross-entropy plus soft Dice, compiled with Adam.

Importing this module registers :func:`ce_dice_loss` with Keras, so that a saved ``.keras``
model compiled with it loads again (``labutils.training`` imports it too).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from labutils.vocabulary import NUM_CLASSES

__all__ = ["ce_dice_loss", "compile_model", "soft_dice_loss"]


def soft_dice_loss(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
    """1 − the mean over the classes of the soft Dice, pixels pooled over the whole batch.

    Taught in lesson 05, §4 "The loss: cross-entropy plus soft Dice" (Exercise 1).

    Soft: the probabilities stand in for the 0/1 prediction, so the loss has a gradient. Each
    class's Dice is ``(2·overlap + 1) / (true pixels + predicted mass + 1)``; the 1s keep a
    class absent from the batch and from the prediction at Dice 1 instead of 0 / 0.

    Args:
        y_true: int (B, H, W, 1) class indices.
        y_pred: float (B, H, W, C) probabilities.

    Returns:
        A scalar float32 in [0, 1): 0 for a perfect prediction.

    >>> perfect = keras.ops.one_hot([[[0, 1], [1, 1]]], NUM_CLASSES)  # no border at all
    >>> round(float(soft_dice_loss(keras.ops.argmax(perfect, -1)[..., None], perfect)), 6)
    0.0
    """
    y_pred = keras.ops.cast(y_pred, "float32")
    num_classes = keras.ops.shape(y_pred)[-1]
    one_hot = keras.ops.one_hot(keras.ops.cast(y_true[..., 0], "int32"), num_classes)
    axes = (0, 1, 2)
    overlap = keras.ops.sum(one_hot * y_pred, axis=axes)  # (C,)
    total = keras.ops.sum(one_hot, axis=axes) + keras.ops.sum(y_pred, axis=axes)  # (C,)
    return 1.0 - keras.ops.mean((2.0 * overlap + 1.0) / (total + 1.0))


@keras.saving.register_keras_serializable(package="labutils")
def ce_dice_loss(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
    """Sparse cross-entropy plus soft Dice loss (1 − mean soft Dice over the classes).

    Taught in lesson 05, §4 "The loss: cross-entropy plus soft Dice" (Exercise 2); lesson 05,
    §10 "Checkpoints, resuming and saving" loads a model saved with it.

    The Dice term weighs every class equally whatever its pixel share, which pushes the model
    to get the thin border class right; cross-entropy keeps per-pixel gradients well behaved.

    Args:
        y_true: int (B, H, W, 1) class indices.
        y_pred: float (B, H, W, C) probabilities.

    Returns:
        A scalar float32 loss.

    >>> perfect = keras.ops.one_hot([[[0, 1], [2, 2]]], NUM_CLASSES)  # (1, 2, 2, NUM_CLASSES)
    >>> round(float(ce_dice_loss(keras.ops.argmax(perfect, -1)[..., None], perfect)), 6)
    0.0
    """
    y_pred = keras.ops.cast(y_pred, "float32")
    ce = keras.ops.mean(keras.losses.sparse_categorical_crossentropy(y_true, y_pred))
    return ce + soft_dice_loss(y_true, y_pred)


def compile_model(
    model: keras.Model,
    learning_rate: float = 1e-3,
    loss: str = "ce+dice",
    num_classes: int = NUM_CLASSES,
    jit_compile: bool = False,
) -> keras.Model:
    """Compile with Adam, the chosen loss, pixel accuracy and mean IoU (``"miou"``).

    Taught in lesson 05, §5 "Compile: optimizer, loss, metrics". Used in lesson 09, §4 "Freezing,
    fine-tuning and batch normalisation".

    A model with ``mixed_float16`` layers gets Adam wrapped in Keras's
    ``LossScaleOptimizer`` (dynamic loss scaling, so small float16 gradients do not vanish).

    Args:
        model: a model whose output is softmax probabilities (B, H, W, C).
        learning_rate: Adam's (initial) learning rate.
        loss: ``"ce+dice"`` (:func:`ce_dice_loss`) or ``"ce"`` (sparse cross-entropy).
        num_classes: number of classes C, for the mean IoU.
        jit_compile: compile the steps with XLA (Keras's ``jit_compile``).

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
        jit_compile=jit_compile,
    )
    return model
