"""Lesson 09's models on pretrained encoders: MobileNetV2 under a U-Net decoder, and SegFormer.

The MobileNetV2 U-Net is the TensorFlow tutorial's (tensorflow.org/tutorials/images/segmentation);
:func:`build_segformer` wraps KerasHub's SegFormer (MiT-B0); :func:`fit_model` trains either
with ``training.TrainConfig``'s recipe and keeps the best validation epoch.
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from typing import Any

import keras
import numpy as np
from keras import layers

from labutils.callbacks import TimeBudget
from labutils.losses import compile_model
from labutils.pipeline import dataset_from_arrays
from labutils.vocabulary import NUM_CLASSES

__all__ = ["ENCODER_SKIPS", "MIT_B0", "KeepBest", "build_pretrained_unet", "build_segformer",
           "decode", "fetch_encoder_weights", "fit_model", "images_per_second",
           "set_encoder_trainable", "upsample"]  # fmt: skip

#: MobileNetV2's layers whose outputs feed the decoder, at 1/2, 1/4, 1/8, 1/16 and 1/32 of the
#: input side (the TensorFlow tutorial's choice; the last is the bottleneck). Used in lesson
#: 08, §1 "An encoder that has already seen the world".
ENCODER_SKIPS = ("block_1_expand_relu", "block_3_expand_relu", "block_6_expand_relu",
                 "block_13_expand_relu", "block_16_project")  # fmt: skip
#: The MiT-B0 encoder of SegFormer-B0 (``keras_hub.models.MiTBackbone`` arguments), as the
#: ``mit_b0_ade20k_512`` preset has it. Used in lesson 09, §6 "Today's segmenters: KerasHub".
MIT_B0 = {"layerwise_depths": [2, 2, 2, 2], "num_layers": 4, "hidden_dims": [32, 64, 160, 256],
          "layerwise_num_heads": [1, 2, 5, 8], "layerwise_sr_ratios": [8, 4, 2, 1],
          "max_drop_path_rate": 0.1, "layerwise_patch_sizes": [7, 3, 3, 3],
          "layerwise_strides": [4, 2, 2, 2]}  # fmt: skip
_WEIGHTS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
_WEIGHT_SIDES = (96, 128, 160, 192, 224)  # the sides Keras has ImageNet weights for
_IMAGENET_MEAN, _IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def fetch_encoder_weights(image_size: int = 128) -> str | None:
    """Return the path of MobileNetV2's ImageNet weights (no top), downloading them once.

    Used in lesson 09, §1 "An encoder that has already seen the world" (through
    :func:`build_pretrained_unet`). The file is kept in Keras's cache (``~/.keras/models``);
    for sides Keras has no weights for, the 224 × 224 ones are used, as Keras does. Returns
    ``None`` where the file is not cached and cannot be downloaded (offline).
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


def upsample(x: Any, filters: int, how: str = "transpose", dtype: Any = None) -> Any:
    """Double the side of ``x``: a 3 × 3 up-sampling convolution, batch norm, ReLU.

    Taught in lesson 09, §2 "The decoder: five skips back to the full side" (``"transpose"``,
    the tutorial's ``pix2pix.upsample``) and §3 "Checkerboards: resize, then convolve"
    (``"resize"``: ``UpSampling2D`` then ``Conv2D``, free of lesson 04's checkerboard).

    Raises:
        ValueError: ``how`` is neither ``"transpose"`` nor ``"resize"``.
    """
    x = _up_convolution(x, filters, how, dtype)
    x = layers.BatchNormalization(dtype=dtype)(x)
    return layers.Activation("relu", dtype=dtype)(x)


def _up_convolution(x: Any, filters: int, how: str, dtype: Any) -> Any:
    """A 3 × 3 convolution to ``filters`` channels at twice the side (transposed, or resized)."""
    if how == "transpose":
        return layers.Conv2DTranspose(filters, 3, strides=2, padding="same", dtype=dtype)(x)
    if how == "resize":
        x = layers.UpSampling2D(2, dtype=dtype)(x)
        return layers.Conv2D(filters, 3, padding="same", dtype=dtype)(x)
    raise ValueError(f"how must be 'transpose' or 'resize', got {how!r}.")


def decode(skips: Sequence[Any], num_classes: int = NUM_CLASSES,
           filters: Sequence[int] = (512, 256, 128, 64), how: str = "transpose",
           dtype: Any = None) -> Any:  # fmt: skip
    """The U-Net decoder on five skips, shallowest (1/2 side) to deepest (1/32): probabilities.

    Taught in lesson 09, §2 "The decoder: five skips back to the full side" (Exercise 1).
    From the deepest skip, four :func:`upsample` steps each concatenate the skip of the side
    they reach; a last up-sampling returns to the full side with ``num_classes`` channels,
    then a float32 softmax.
    """
    *skips, x = skips
    for size, skip in zip(filters, reversed(skips), strict=True):
        x = layers.Concatenate(dtype=dtype)([upsample(x, size, how, dtype), skip])
    x = _up_convolution(x, num_classes, how, dtype)  # back to the full side: the logits
    return layers.Activation("softmax", dtype="float32", name="probs")(x)


def build_pretrained_unet(image_size: int = 128, num_classes: int = NUM_CLASSES,
                          weights: str | None = "imagenet",
                          decoder_filters: tuple[int, ...] = (512, 256, 128, 64),
                          dtype: str | None = None,
                          how: str = "transpose") -> keras.Model:  # fmt: skip
    """Build the TensorFlow tutorial's U-Net: a frozen MobileNetV2 encoder under :func:`decode`.

    Taught in lesson 09, §1 "An encoder that has already seen the world" and §2. The encoder
    is ``MobileNetV2(include_top=False)`` cut at :data:`ENCODER_SKIPS`, one layer named
    ``"encoder"``, built frozen. Images in [0, 1] are rescaled to MobileNetV2's [-1, 1].
    ``weights="imagenet"`` downloads ImageNet weights once (:func:`fetch_encoder_weights`);
    offline the same model gets random encoder weights and one line says so.
    ``model.encoder_weights`` is ``"imagenet"``, ``"random"`` or the file given.

    Args:
        image_size: side of the input; a multiple of 32.
        weights: ``"imagenet"``, ``None`` (random on purpose, silently) or a weights file.
        decoder_filters: filters of the four decoder steps, deepest first.
        dtype: a Keras dtype policy such as ``"mixed_float16"``; the softmax stays float32.
        how: the decoder's up-sampling, ``"transpose"`` or ``"resize"`` (see :func:`upsample`).

    Returns:
        A model from images (B, S, S, 3) float32 in [0, 1] to probabilities (B, S, S, C) float32.

    Raises:
        ValueError: ``image_size`` not a positive multiple of 32, or another bad argument.
    """
    if image_size < 32 or image_size % 32:
        nearest = max(1, round(image_size / 32)) * 32
        raise ValueError(f"image_size must be a positive multiple of 32 (MobileNetV2 halves "
                         f"it five times); got {image_size}. Try {nearest}.")  # fmt: skip
    if num_classes < 2 or len(decoder_filters) != len(ENCODER_SKIPS) - 1:
        raise ValueError(f"build_pretrained_unet needs num_classes >= 2 and "
                         f"{len(ENCODER_SKIPS) - 1} decoder_filters; got {num_classes} and "
                         f"{decoder_filters}.")  # fmt: skip
    path = fetch_encoder_weights(image_size) if weights == "imagenet" else weights
    if weights == "imagenet" and path is None:
        print("No ImageNet weights (no network and none in Keras's cache): the MobileNetV2 "
              "encoder starts from RANDOM weights, so this model is not pretrained.")  # fmt: skip
    with _global_dtype_policy(dtype):
        backbone = keras.applications.MobileNetV2(
            input_shape=(image_size, image_size, 3), include_top=False, weights=path
        )
    encoder = keras.Model(backbone.input, [backbone.get_layer(n).output for n in ENCODER_SKIPS],
                          name="encoder")  # fmt: skip
    encoder.trainable = False
    inputs = keras.Input(shape=(image_size, image_size, 3), name="images")
    x = layers.Rescaling(2.0, offset=-1.0, dtype=dtype)(inputs)  # [0, 1] -> [-1, 1]
    outputs = decode(encoder(x), num_classes, decoder_filters, how, dtype)
    model = keras.Model(inputs, outputs, name="mobilenetv2_unet")
    model.encoder_weights = "imagenet" if weights == "imagenet" and path else str(path or "random")
    return model


@contextmanager
def _global_dtype_policy(dtype: str | None) -> Iterator[None]:
    """Build models that take no ``dtype`` (``keras.applications``, KerasHub) under ``dtype``."""
    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy(dtype or before)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)


def set_encoder_trainable(
    model: keras.Model, trainable: bool, freeze_batch_norm: bool = True
) -> int:
    """Freeze or unfreeze the encoder of :func:`build_pretrained_unet`, for fine-tuning.

    Taught in lesson 09, §4 "Freezing, fine-tuning and batch normalisation" (Exercise 3).
    Unfreezing keeps the batch normalisations frozen (inference mode, stored statistics) by
    default: right for ImageNet weights, whose statistics fit photos. Random weights' initial
    statistics (mean 0, variance 1) fit nothing, so pass ``freeze_batch_norm=False`` for them.
    Compile again afterwards: Keras fixes the trainable weights at ``compile``.

    Returns the number of trainable weight tensors of the whole model afterwards; raises a
    ValueError for a model without an ``"encoder"`` layer.
    """
    try:
        encoder = model.get_layer("encoder")
    except ValueError:
        raise ValueError(f"{model.name} has no 'encoder' layer: pass a model from "
                         "pretrained.build_pretrained_unet.") from None  # fmt: skip
    encoder.trainable = trainable  # sets every layer inside, batch norms included
    for layer in encoder.layers:
        if trainable and freeze_batch_norm and isinstance(layer, layers.BatchNormalization):
            layer.trainable = False
    return len(model.trainable_weights)


def build_segformer(
    image_size: int = 128, num_classes: int = NUM_CLASSES, preset: str | None = None,
    dtype: str | None = None,
) -> keras.Model:  # fmt: skip
    """KerasHub's SegFormer-B0 ``ImageSegmenter`` on a MiT-B0 encoder, with probabilities out.

    Taught in lesson 09, §6 "Today's segmenters: KerasHub". ``preset`` names a MiT encoder
    preset (``"mit_b0_ade20k_512"``, downloaded once) or a local folder from ``save_to_preset``;
    where it cannot be loaded, and for ``None``, the encoder gets random weights
    (:data:`MIT_B0`), and for a preset one line says so. ``model.encoder_weights`` records which.
    Images in [0, 1] are normalised with ImageNet's mean and deviation.

    Returns:
        A model from images (B, S, S, 3) float32 in [0, 1] to probabilities (B, S, S, C) float32.
    """
    import keras_hub  # extra code – only this model needs it

    shape, encoder, label = (image_size, image_size, 3), None, "random"
    with _global_dtype_policy(dtype):
        if preset is not None:
            try:
                encoder = keras_hub.models.MiTBackbone.from_preset(preset, image_shape=shape)
                label = preset
            except Exception as error:  # offline: a connection error of Kaggle's client
                print(f"No preset {preset!r} ({type(error).__name__}): SegFormer's encoder "
                      "starts from RANDOM weights, so this model is not pretrained.")  # fmt: skip
        encoder = encoder or keras_hub.models.MiTBackbone(**MIT_B0, image_shape=shape)
        backbone = keras_hub.models.SegFormerBackbone(image_encoder=encoder, projection_filters=256)
        segmenter = keras_hub.models.SegFormerImageSegmenter(backbone, num_classes=num_classes)
        inputs = keras.Input(shape=shape, name="images")
        x = layers.Reshape(shape)(inputs)  # a static side, which MiT's patches need
        x = layers.Normalization(mean=_IMAGENET_MEAN, variance=np.square(_IMAGENET_STD))(x)
        probs = layers.Activation("softmax", dtype="float32", name="probs")(segmenter(x))
    model = keras.Model(inputs, probs, name="segformer_b0")
    model.encoder_weights = label
    return model


class KeepBest(keras.callbacks.Callback):
    """Remember the weights of the best ``val_miou`` epoch over one fit or several, to restore.

    Used in lesson 09, §3 to §5: the MobileNetV2 U-Net's two phases share one, so it keeps
    its best validation epoch of either phase, as ``training.train_unet`` keeps its own.
    """

    def __init__(self) -> None:
        super().__init__()
        self.best, self.best_epoch, self.epochs, self._weights = -math.inf, 0, 0, None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epochs += 1
        if (logs or {}).get("val_miou", -math.inf) > self.best:
            self.best, self.best_epoch = float(logs["val_miou"]), self.epochs
            self._weights = [v.numpy() for v in self.model.weights]

    def restore(self) -> None:
        """Put the best epoch's weights back into the model."""
        for variable, value in zip(self.model.weights, self._weights, strict=True):
            variable.assign(value)


def fit_model(model: keras.Model, config: Any, train_data: tuple, val_data: tuple,
              minutes: float | None = None, learning_rate: float | None = None,
              keep: KeepBest | None = None) -> dict[str, Any]:  # fmt: skip
    """Fit a built model with ``config``'s recipe (a ``training.TrainConfig``); keep its best epoch.

    Used in lesson 09, §3 to §6. Compiles (loss, Adam), then trains ``config.batch_size`` batches,
    augmented as ``config.augment`` says, on ``TimeBudget``'s warm-up and cosine for
    ``minutes`` (default ``config.time_budget_min``) at peak ``learning_rate`` (default
    ``config.learning_rate``). The model ends with the weights of its best ``val_miou`` epoch;
    to choose over several fits, pass them one ``keep`` and call ``keep.restore()`` after the
    last. No small-images-first: these models have a fixed input side.

    Returns:
        ``history``, ``best_epoch`` (1-based, over every fit ``keep`` saw), ``best_val_miou``,
        ``fit_seconds`` and ``epochs_done`` (of this fit).
    """
    restore, keep = keep is None, keep or KeepBest()
    keras.utils.set_random_seed(config.seed)
    train_ds = dataset_from_arrays(*train_data, config.batch_size, config.augment, shuffle=True)
    val_ds = dataset_from_arrays(*val_data, config.batch_size)
    rate = learning_rate or config.learning_rate
    compile_model(model, rate, config.loss)
    minutes = config.time_budget_min if minutes is None else minutes
    budget = TimeBudget(rate, len(train_ds) * config.epochs, minutes, config.warmup)
    history = model.fit(train_ds, validation_data=val_ds, epochs=config.epochs, verbose=0,
                        shuffle=False, callbacks=[budget, keep])  # fmt: skip
    if restore:
        keep.restore()
    return {"history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
            "best_epoch": keep.best_epoch, "best_val_miou": round(keep.best, 4),
            "fit_seconds": round(budget.seconds, 1),
            "epochs_done": round(budget.epochs_done, 2)}  # fmt: skip


def images_per_second(model: keras.Model, images: np.ndarray, batch_size: int = 16) -> float:
    """Images a second ``model`` segments (after a warm-up batch). Used in lesson 09, §7."""
    model.predict_on_batch(np.asarray(images[:batch_size], np.float32) / 255.0)  # warm-up
    start = time.perf_counter()
    model.predict(np.asarray(images, np.float32) / 255.0, batch_size=batch_size, verbose=0)
    return len(images) / (time.perf_counter() - start)
