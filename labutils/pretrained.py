"""Lesson 08's U-Net on a pretrained encoder: MobileNetV2 with ImageNet weights.

The TensorFlow tutorial's model (https://www.tensorflow.org/tutorials/images/segmentation):
the encoder is cut from ``keras.applications.MobileNetV2`` and frozen, a decoder of transposed
convolutions returns to the input side, and :func:`set_encoder_trainable` fine-tunes it.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from typing import Any

import keras
from keras import layers

from labutils.vocabulary import NUM_CLASSES

__all__ = [
    "ENCODER_SKIPS",
    "build_pretrained_unet",
    "fetch_encoder_weights",
    "set_encoder_trainable",
]

#: MobileNetV2's layers whose outputs feed the decoder, at 1/2, 1/4, 1/8, 1/16 and 1/32 of the
#: input side (the TensorFlow tutorial's choice; the last one is the bottleneck). Used in
#: lesson 08, §1 "An encoder that has already seen the world".
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

    Used in lesson 08, §1 "An encoder that has already seen the world" (through
    :func:`build_pretrained_unet`).

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
    num_classes: int = NUM_CLASSES,
    weights: str | None = "imagenet",
    decoder_filters: tuple[int, ...] = (512, 256, 128, 64),
    dtype: str | None = None,
) -> keras.Model:
    """Build the TensorFlow tutorial's U-Net: a MobileNetV2 encoder, a transposed-conv decoder.

    Taught in lesson 08, §1 "An encoder that has already seen the world".

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

    Taught in lesson 08, §4 "Phase 2: fine-tuning".

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
                         "pretrained.build_pretrained_unet.") from None  # fmt: skip
    encoder.trainable = trainable
    if trainable:
        for layer in encoder.layers:
            if isinstance(layer, layers.BatchNormalization):
                layer.trainable = False
    return len(model.trainable_weights)
