"""The U-Net of lesson 04, from the original lab's exact model to the lab's lighter CPU recipe.

``build_unet()`` with its defaults is the original lab's U-Net (7.8 M parameters); the options
(depth, width, batch normalisation, dropout) give the lighter model that ``recommended_config()``
describes and that ``python -m labutils train`` trains by default.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import keras
import tensorflow as tf
from keras import layers

__all__ = ["FusedBatchNormalization", "any_image_size", "build_unet", "recommended_config"]


@keras.saving.register_keras_serializable(package="labutils")
class FusedBatchNormalization(layers.BatchNormalization):
    """``keras.layers.BatchNormalization`` computed by TensorFlow's fused kernel.

    Same weights, arguments and maths as its parent; only the arithmetic is done in one
    pass. Keras 3 normalises with separate element-wise operations in float32, which on a
    CPU computing in bfloat16 takes longer than the convolutions themselves (training ran
    2× slower); with the fused kernel batch normalisation costs ~15 %. One difference: the
    moving variance is updated with the unbiased batch variance (n / (n − 1), negligible for
    the ~100,000 pixels of a batch). Inputs other than (B, H, W, C) use the parent's code.
    """

    def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        if mask is not None or self.renorm or self.axis not in (-1, 3) or inputs.ndim != 4:
            return super().call(inputs, training=training, mask=mask)
        gamma, beta = tf.cast(self.gamma, tf.float32), tf.cast(self.beta, tf.float32)
        if not (training and self.trainable):
            return tf.compat.v1.nn.fused_batch_norm(
                inputs, gamma, beta, self.moving_mean, self.moving_variance,
                epsilon=self.epsilon, is_training=False,
            )[0]  # fmt: skip
        outputs, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            inputs, gamma, beta, epsilon=self.epsilon, is_training=True
        )
        for moving, batch in ((self.moving_mean, mean), (self.moving_variance, variance)):
            moving.assign(moving * self.momentum + batch * (1.0 - self.momentum))
        return outputs


#: Batch normalisation's moving statistics keep this much of their value at every step, so they
#: follow the last ~10 batches (Keras's default, 0.99, lags ~100 steps behind weights that change
#: fast early in training, and the validation scores of the first epochs swing wildly).
BN_MOMENTUM = 0.9


def _conv_block(x: Any, filters: int, batch_norm: bool, dtype: Any) -> Any:
    """Two 3×3 'same' convolutions with ReLU (conv → BN → ReLU when ``batch_norm``)."""
    for _ in range(2):
        if batch_norm:
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False, dtype=dtype)(x)
            x = FusedBatchNormalization(momentum=BN_MOMENTUM, dtype=dtype)(x)
            x = layers.Activation("relu", dtype=dtype)(x)
        else:
            x = layers.Conv2D(filters, 3, padding="same", activation="relu", dtype=dtype)(x)
    return x


def build_unet(
    image_size: int = 64,
    num_classes: int = 3,
    base_filters: int = 64,
    depth: int = 3,
    batch_norm: bool = False,
    dropout: float = 0.0,
    dtype: str | None = None,
) -> keras.Model:
    """Build a U-Net: ``depth`` down blocks, a bottleneck, ``depth`` up blocks, softmax head.

    With the defaults this is exactly the original lab's ``unet()`` (filters 64-128-256 down,
    512 in the bottleneck, UpSampling2D + Concatenate up, 3×3 softmax head), but with the
    input shape ``(image_size, image_size, 3)`` that the original meant.

    Args:
        image_size: height and width of the input; must be divisible by ``2**depth``.
        num_classes: channels of the output, one probability per class.
        base_filters: filters of the first block; they double at every level down.
        depth: number of 2× down-samplings (the bottleneck has ``base_filters * 2**depth``).
        batch_norm: put batch normalisation between each convolution and its ReLU (with
            momentum ``BN_MOMENTUM``).
        dropout: dropout rate after the bottleneck (0 disables it).
        dtype: a Keras dtype policy such as ``"mixed_bfloat16"``; the softmax stays float32.

    Returns:
        A Keras model mapping images ``(B, S, S, 3)`` float32 in [0, 1] to probabilities
        ``(B, S, S, num_classes)`` float32 that sum to 1 over the last axis.

    Raises:
        ValueError: if ``image_size`` is not a positive multiple of ``2**depth`` or another
            argument is out of range.
    """
    if depth < 1 or base_filters < 1 or num_classes < 2 or not 0.0 <= dropout < 1.0:
        raise ValueError(
            f"build_unet needs depth >= 1, base_filters >= 1, num_classes >= 2 and "
            f"0 <= dropout < 1; got depth={depth}, base_filters={base_filters}, "
            f"num_classes={num_classes}, dropout={dropout}."
        )
    if image_size < 1 or image_size % 2**depth:
        nearest = max(1, round(image_size / 2**depth)) * 2**depth
        raise ValueError(
            f"image_size must be a positive multiple of 2**depth = {2**depth} so that every "
            f"skip connection lines up; got {image_size}. Try {nearest}."
        )
    inputs = keras.Input(shape=(image_size, image_size, 3), name="images")
    x, skips = inputs, []
    for level in range(depth):  # (B, S / 2**level, S / 2**level, base * 2**level)
        x = _conv_block(x, base_filters * 2**level, batch_norm, dtype)
        skips.append(x)
        x = layers.MaxPooling2D(2, dtype=dtype)(x)
    x = _conv_block(x, base_filters * 2**depth, batch_norm, dtype)  # the bottleneck
    if dropout:
        x = layers.Dropout(dropout, dtype=dtype)(x)
    for level in reversed(range(depth)):
        x = layers.UpSampling2D(2, dtype=dtype)(x)
        x = layers.Concatenate(dtype=dtype)([x, skips[level]])
        x = _conv_block(x, base_filters * 2**level, batch_norm, dtype)
    x = layers.Conv2D(num_classes, 3, padding="same", dtype=dtype)(x)
    outputs = layers.Activation("softmax", dtype="float32", name="probs")(x)
    return keras.Model(inputs, outputs, name="unet")


@contextmanager
def any_image_size(model: keras.Model) -> Iterator[keras.Model]:
    """Let a U-Net take images of any side inside the ``with`` block.

    Every layer of a U-Net works on any side that is a multiple of ``2**depth`` (it is
    *fully convolutional*); only the declared input shape holds it to ``image_size``. Inside
    the block the model accepts (B, H, W, 3) of any H and W; afterwards the check is back.

    Args:
        model: a model from :func:`build_unet`.

    Yields:
        The same model.
    """
    declared = model.input_spec
    model.input_spec = keras.InputSpec(ndim=4, axes={-1: 3})
    try:
        yield model
    finally:
        model.input_spec = declared


def recommended_config() -> dict[str, Any]:
    """Return the ``build_unet`` arguments of the lab's recommended CPU model.

    Returns:
        A dict to pass as ``build_unet(**recommended_config())``.
    """
    return {"image_size": 128, "base_filters": 16, "depth": 4, "batch_norm": True, "dropout": 0.0}
