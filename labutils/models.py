"""The U-Net of lesson 04, from the original lab's exact model to the lab's lighter CPU recipe.

``build_unet()`` with its defaults is the original lab's U-Net (7.8 M parameters); the options
(depth, width, batch normalisation, dropout) give the lighter model that ``recommended_config()``
describes and that ``python -m labutils train`` trains by default.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from typing import Any

import keras
import tensorflow as tf
from keras import layers

__all__ = [
    "ENCODER_SKIPS",
    "FusedBatchNormalization",
    "any_image_size",
    "build_pretrained_unet",
    "build_unet",
    "fetch_encoder_weights",
    "recommended_config",
    "set_encoder_trainable",
]


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
    head_kernel: int = 3,
    dtype: str | None = None,
) -> keras.Model:
    """Build a U-Net: ``depth`` down blocks, a bottleneck, ``depth`` up blocks, softmax head.

    Taught in notebooks/04_building_unet.ipynb, section 7 ("Write the U-Net in Keras"),
    Exercises 4-7: ``conv_block``, ``down_block``, ``up_block`` and ``unet``. That ``unet``
    (with ``head_kernel=1``, the U-Net paper's head) builds the same layers, output shapes and
    parameters as this function; tests/test_building_unet.py checks it. This function adds
    the ``dropout``, ``head_kernel`` and ``dtype`` options and a fused batch normalisation
    (:class:`FusedBatchNormalization`, the same weights and maths as Keras's).

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
    if depth < 1 or base_filters < 1 or num_classes < 2 or not 0.0 <= dropout < 1.0:
        raise ValueError(
            f"build_unet needs depth >= 1, base_filters >= 1, num_classes >= 2 and "
            f"0 <= dropout < 1; got depth={depth}, base_filters={base_filters}, "
            f"num_classes={num_classes}, dropout={dropout}."
        )
    if head_kernel < 1 or head_kernel % 2 == 0:
        raise ValueError(f"head_kernel must be an odd number such as 1 or 3; got {head_kernel}.")
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
    x = layers.Conv2D(num_classes, head_kernel, padding="same", dtype=dtype)(x)
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
    return {"image_size": 128, "base_filters": 16, "depth": 4, "batch_norm": True, "dropout": 0.0,
            "head_kernel": 1}  # fmt: skip  # the U-Net paper's 1×1 head (lesson 04 fixes the 3×3)


# The TensorFlow tutorial's U-Net on a pretrained encoder (taught in
# notebooks/08_pretrained_encoder.ipynb): https://www.tensorflow.org/tutorials/images/segmentation

#: MobileNetV2's layers whose outputs feed the decoder, at 1/2, 1/4, 1/8, 1/16 and 1/32 of the
#: input side (the TensorFlow tutorial's choice; the last one is the bottleneck).
ENCODER_SKIPS = (
    "block_1_expand_relu",
    "block_3_expand_relu",
    "block_6_expand_relu",
    "block_13_expand_relu",
    "block_16_project",
)
_WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
_WEIGHT_SIDES = (96, 128, 160, 192, 224)  # the sides Keras has ImageNet weights for


def fetch_encoder_weights(image_size: int = 128) -> str | None:
    """Return the path of MobileNetV2's ImageNet weights (no top), downloading them once.

    The file is kept in Keras's cache (``~/.keras/models``, or ``$KERAS_HOME/models``); a
    later call finds it there without the network. For sides Keras has no weights for, the
    224 × 224 weights are used, as ``keras.applications.MobileNetV2`` does.

    Args:
        image_size: the side of the model's input.

    Returns:
        The weights file, or ``None`` if it is not cached and cannot be downloaded (offline).
    """
    side = image_size if image_size in _WEIGHT_SIDES else 224
    name = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{side}_no_top.h5"
    said = io.StringIO()  # Keras prints "Downloading data from ..." even when it then fails
    try:
        with redirect_stdout(said):
            path = keras.utils.get_file(name, _WEIGHTS_URL + name, cache_subdir="models")
    except Exception:  # get_file raises a bare Exception ("URL fetch failure ...") offline
        return None
    if said.getvalue():
        print(f"Downloaded MobileNetV2's ImageNet weights to {path}")
    return path


def _upsample(x: Any, filters: int, dtype: Any) -> Any:
    """The tutorial's ``pix2pix.upsample``: 2× transposed convolution, batch norm, ReLU."""
    init = keras.initializers.RandomNormal(0.0, 0.02)
    x = layers.Conv2DTranspose(filters, 3, strides=2, padding="same", use_bias=False,
                               kernel_initializer=init, dtype=dtype)(x)  # fmt: skip
    x = layers.BatchNormalization(dtype=dtype)(x)
    return layers.Activation("relu", dtype=dtype)(x)


def build_pretrained_unet(
    image_size: int = 128,
    num_classes: int = 3,
    weights: str | None = "imagenet",
    decoder_filters: tuple[int, ...] = (512, 256, 128, 64),
    dtype: str | None = None,
) -> keras.Model:
    """Build the TensorFlow tutorial's U-Net: a MobileNetV2 encoder, a transposed-conv decoder.

    The encoder is ``keras.applications.MobileNetV2(include_top=False)`` cut at
    :data:`ENCODER_SKIPS`, as one layer named ``"encoder"``, built **frozen** (its weights
    do not train; see :func:`set_encoder_trainable` to fine-tune it). The decoder doubles
    the side four times, concatenating the encoder's skip of the same side each time; a last
    transposed convolution returns to the input side, and a float32 softmax gives the
    probabilities. Images in [0, 1] are rescaled to the [-1, 1] MobileNetV2 was trained on.

    ``weights="imagenet"`` loads ImageNet weights (downloaded once, see
    :func:`fetch_encoder_weights`); where they cannot be downloaded the same model is built
    with random encoder weights, and one line says so. ``model.encoder_weights`` records
    which: ``"imagenet"``, ``"random"`` or the path given.

    Args:
        image_size: height and width of the input; a multiple of 32.
        num_classes: channels of the output, one probability per class.
        weights: ``"imagenet"``, ``None`` (random on purpose, no message) or a weights file.
        decoder_filters: filters of the four up-sampling steps, deepest first.
        dtype: a Keras dtype policy such as ``"mixed_float16"``; the softmax stays float32.

    Returns:
        A Keras model mapping images ``(B, S, S, 3)`` float32 in [0, 1] to probabilities
        ``(B, S, S, num_classes)`` float32.

    Raises:
        ValueError: ``image_size`` is not a positive multiple of 32, or another argument is
            out of range.
    """
    if image_size < 32 or image_size % 32:
        nearest = max(1, round(image_size / 32)) * 32
        raise ValueError(f"image_size must be a positive multiple of 32 (MobileNetV2 halves "
                         f"it five times); got {image_size}. Try {nearest}.")  # fmt: skip
    if num_classes < 2 or len(decoder_filters) != len(ENCODER_SKIPS) - 1:
        raise ValueError(f"build_pretrained_unet needs num_classes >= 2 and "
                         f"{len(ENCODER_SKIPS) - 1} decoder_filters; got {num_classes} and "
                         f"{decoder_filters}.")  # fmt: skip
    path, label = weights, weights
    if weights == "imagenet":
        path = fetch_encoder_weights(image_size)
        label = "imagenet" if path else "random"
        if path is None:
            print(
                "No ImageNet weights (no network and none in Keras's cache): the MobileNetV2 "
                "encoder starts from RANDOM weights, so this model is not pretrained."
            )
    elif weights is None:
        label = "random"
    with _global_dtype_policy(dtype):
        backbone = keras.applications.MobileNetV2(
            input_shape=(image_size, image_size, 3), include_top=False, weights=path
        )
    skips = [backbone.get_layer(name).output for name in ENCODER_SKIPS]
    encoder = keras.Model(backbone.input, skips, name="encoder")
    encoder.trainable = False
    inputs = keras.Input(shape=(image_size, image_size, 3), name="images")
    x = layers.Rescaling(2.0, offset=-1.0, dtype=dtype)(inputs)  # [0, 1] -> [-1, 1]
    *skips, x = encoder(x)  # skips at S/2 .. S/16; x (B, S/32, S/32, 320)
    for filters, skip in zip(decoder_filters, reversed(skips), strict=True):
        x = _upsample(x, filters, dtype)
        x = layers.Concatenate(dtype=dtype)([x, skip])
    x = layers.Conv2DTranspose(num_classes, 3, strides=2, padding="same", dtype=dtype)(x)
    outputs = layers.Activation("softmax", dtype="float32", name="probs")(x)
    model = keras.Model(inputs, outputs, name="mobilenetv2_unet")
    model.encoder_weights = label if isinstance(label, str) else str(label)
    return model


@contextmanager
def _global_dtype_policy(dtype: str | None) -> Iterator[None]:
    """Build ``keras.applications`` models (which take no ``dtype``) under ``dtype``."""
    if dtype is None:
        yield
        return
    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy(dtype)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)


def set_encoder_trainable(model: keras.Model, trainable: bool) -> int:
    """Freeze or unfreeze the encoder of :func:`build_pretrained_unet`, for fine-tuning.

    Unfreezing makes every layer of the encoder trainable except its batch normalisations,
    which keep their ImageNet statistics and stay in inference mode (the Keras
    transfer-learning guide's advice: updating them on small batches of a new dataset
    destroys what the encoder learnt). Compile the model again afterwards: Keras fixes the
    trainable weights at ``compile`` time.

    Args:
        model: a model from :func:`build_pretrained_unet`.
        trainable: ``True`` to fine-tune the encoder, ``False`` to freeze it.

    Returns:
        The number of trainable weights of the whole model afterwards.

    Raises:
        ValueError: ``model`` has no layer named ``"encoder"``.
    """
    try:
        encoder = model.get_layer("encoder")
    except ValueError:
        raise ValueError(f"{model.name} has no 'encoder' layer: pass a model from "
                         "models.build_pretrained_unet.") from None  # fmt: skip
    encoder.trainable = trainable
    if trainable:
        for layer in encoder.layers:
            if isinstance(layer, layers.BatchNormalization):
                layer.trainable = False
    return len(model.trainable_weights)
