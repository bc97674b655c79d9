"""The U-Net of lesson 04, from the original lab's exact model to the lab's lighter CPU recipe.

``build_unet()`` with its defaults is the original lab's U-Net; the options (depth, width,
batch normalisation, dropout) give the lighter model that ``recommended_config()`` describes
and that ``python -m labutils train`` trains by default. Lesson 09's U-Net on a pretrained
encoder is in ``labutils.pretrained``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import keras
import tensorflow as tf
from keras import layers

from labutils.vocabulary import NUM_CLASSES

__all__ = [
    "BN_MOMENTUM",
    "FusedBatchNormalization",
    "any_image_size",
    "build_unet",
    "recommended_config",
]


@keras.saving.register_keras_serializable(package="labutils")
class FusedBatchNormalization(layers.BatchNormalization):
    """``keras.layers.BatchNormalization`` computed by TensorFlow's fused kernel.

    Used in lesson 05, §8 "Fitting it into a few minutes on a CPU (optional)".

    Same weights, arguments and normalisation as its parent; only the arithmetic is done in
    one pass. Keras 3 normalises with separate element-wise operations in float32, which on a
    CPU computing in bfloat16 is slow next to the convolutions; the fused kernel does it in
    one pass. One difference: the moving variance is updated with the unbiased batch variance
    (a factor n / (n − 1), negligible for the many pixels of a batch). Inputs other than
    (B, H, W, C) use the parent's code.
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
#: follow the last ~1 / (1 − 0.9) = 10 batches (Keras's default, 0.99, follows ~100: it lags
#: behind weights that change fast early in training, and the validation scores of the first
#: epochs swing wildly). Used in lesson 04, §7 "Write the U-Net in Keras".
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


def _check_unet_arguments(
    image_size: int, num_classes: int, base_filters: int, depth: int, dropout: float, kernel: int
) -> None:
    """Raise a ValueError that names the fix for arguments :func:`build_unet` cannot build."""
    if depth < 1 or base_filters < 1 or num_classes < 2 or not 0.0 <= dropout < 1.0:
        raise ValueError(
            f"build_unet needs depth >= 1, base_filters >= 1, num_classes >= 2 (a softmax "
            f"over 1 class outputs 1.0 everywhere: use 2 for object vs background) and "
            f"0 <= dropout < 1; got depth={depth}, base_filters={base_filters}, "
            f"num_classes={num_classes}, dropout={dropout}."
        )
    if kernel < 1 or kernel % 2 == 0:
        raise ValueError(f"head_kernel must be an odd number such as 1 or 3; got {kernel}.")
    if image_size < 1 or image_size % 2**depth:
        nearest = max(1, round(image_size / 2**depth)) * 2**depth
        raise ValueError(
            f"image_size must be a positive multiple of 2**depth = {2**depth} so that every "
            f"skip connection lines up; got {image_size}. Try {nearest}."
        )


def build_unet(
    image_size: int = 64,
    num_classes: int = NUM_CLASSES,
    base_filters: int = 64,
    depth: int = 3,
    batch_norm: bool = False,
    dropout: float = 0.0,
    head_kernel: int = 3,
    dtype: str | None = None,
) -> keras.Model:
    """Build a U-Net: ``depth`` down blocks, a bottleneck, ``depth`` up blocks, softmax head.

    Taught in lesson 04, §7 "Write the U-Net in Keras". Used in lesson 05, §3 "The model".

    Exercises 4-7 of notebooks/04_building_unet.ipynb, section 7 there, write
    ``conv_block``, ``down_block``, ``up_block`` and ``unet``. That ``unet`` (with
    ``head_kernel=1``, the U-Net paper's head) builds the same layers, output shapes and
    parameters as this function; tests/test_building_unet.py checks it. This function adds
    the ``dropout``, ``head_kernel`` and ``dtype`` options and a fused batch normalisation
    (:class:`FusedBatchNormalization`: Keras's weights and normalisation; its moving
    variance takes the unbiased batch variance).

    With the defaults this is exactly the original lab's ``unet()`` (filters 64-128-256 down,
    512 in the bottleneck, UpSampling2D + Concatenate up, 3×3 softmax head: a design choice,
    the keras.io example's too, where the U-Net paper has 1×1), but with the input shape
    ``(image_size, image_size, 3)`` that the original meant and ``num_classes=3``: the
    original's default of 1 class made its softmax output a constant 1.0 (lesson 04, §7).

    Args:
        image_size: height and width of the input; must be divisible by ``2**depth``.
        num_classes: channels of the output, one probability per class; at least 2, since
            a softmax over one channel is 1.0 everywhere.
        base_filters: filters of the first block; they double at every level down.
        depth: number of 2× down-samplings (the bottleneck has ``base_filters * 2**depth``).
        batch_norm: put batch normalisation between each convolution and its ReLU (with
            momentum ``BN_MOMENTUM``).
        dropout: dropout rate after the bottleneck (0 disables it).
        head_kernel: side of the last convolution's kernel: 3 in the original lab, 1 (a
            per-pixel classifier) in the U-Net paper and lesson 04.
        dtype: a Keras dtype policy such as ``"mixed_bfloat16"``; the softmax stays float32.

    Returns:
        A Keras model mapping images ``(B, S, S, 3)`` float32 in [0, 1] to probabilities
        ``(B, S, S, num_classes)`` float32 that sum to 1 over the last axis.

    Raises:
        ValueError: if ``image_size`` is not a positive multiple of ``2**depth`` or another
            argument is out of range.
    """
    _check_unet_arguments(image_size, num_classes, base_filters, depth, dropout, head_kernel)
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
    x = layers.Conv2D(num_classes, head_kernel, padding="same", dtype=dtype)(x)
    outputs = layers.Activation("softmax", dtype="float32", name="probs")(x)
    return keras.Model(inputs, outputs, name="unet")


@contextmanager
def any_image_size(model: keras.Model) -> Iterator[keras.Model]:
    """Let a U-Net take images of any side inside the ``with`` block.

    Used in lesson 05, §7 "Training" (with ``callbacks.ProgressiveResize``).

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

    Used in lesson 04's configuration cell; in lesson 06, §1 "The model, and the photos that
    chose it"; in lesson 07, §3 "Boxes from the segmentation model"; and in lesson 09, §5
    "A fair comparison: a U-Net trained from scratch" (``training.TrainConfig`` trains it by
    default).

    Returns:
        A dict to pass as ``build_unet(**recommended_config())``.

    >>> config = recommended_config()
    >>> config["image_size"] % 2 ** config["depth"]  # every skip connection lines up
    0
    """
    return {"image_size": 128, "base_filters": 8, "depth": 4, "batch_norm": True, "dropout": 0.0,
            "head_kernel": 1}  # fmt: skip  # the U-Net paper's 1×1 head (the original lab's: 3×3)
