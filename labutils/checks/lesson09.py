"""Checkers of the pretrained-encoder lesson (lesson 09, "Pretrained encoders and today's
segmenters"): the decoder on MobileNetV2's five skips, an
up-sampling without checkerboards, and unfreezing an encoder, its batch norms kept frozen.

Each builds the student's Keras code on small inputs (Keras is imported only then).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from labutils.checks.lesson04_unet import student_model
from labutils.checks.verdict import FUNCTION, Exercise, Problem, Verdict, call_student, judge
from labutils.vocabulary import NUM_CLASSES

__all__ = ["check_decoder", "check_resize_upsample", "check_unfreeze"]

_DECODER = Exercise(
    "Exercise 1 (the decoder)",
    "x = skips[-1]; for each shallower skip: up-sample x by 2, then Concatenate()([x, skip]); "
    "a last up-sampling to the full side with num_classes channels; a softmax.",
)
_RESIZE = Exercise(
    "Exercise 2 (up-sampling without checkerboards)",
    "UpSampling2D(2), then Conv2D(filters, 3, padding='same'), batch norm and ReLU.",
)
_UNFREEZE = Exercise(
    "Exercise 3 (unfreezing the encoder)",
    "encoder.trainable = True first (it sets every layer inside), then trainable = False for "
    "each BatchNormalization in encoder.layers.",
)
_SIDE = 64  # the input side the decoder is checked at
#: MobileNetV2's skips at a 64-pixel input: (side, channels), shallowest first.
_SKIPS = ((32, 96), (16, 144), (8, 192), (4, 576), (2, 320))


def check_decoder(decode: Callable[..., Any]) -> Verdict:
    """Check a decoder from MobileNetV2's five skips (shallowest first) to probabilities.

    Exercise of lesson 09, §2 "The decoder: five skips back to the full side".

    ``decode(skips, num_classes)`` is called on Keras inputs of the skips of a 64 × 64 image
    and must return probabilities at 64 × 64 with ``num_classes`` channels, every skip
    reaching the output.
    """
    return judge(_DECODER, decode, FUNCTION, _decoder_problem)


def _decoder_problem(decode: Callable[..., Any]) -> Problem:
    import keras

    inputs = [keras.Input((side, side, channels)) for side, channels in _SKIPS]
    try:
        model = student_model(inputs, [call_student(decode, "decode", inputs, NUM_CLASSES)],
                               "decode")  # fmt: skip
    except ValueError as error:
        if "Concatenate" in getattr(error, "detail", "") or "matching shapes" in str(error):
            return (f"{error} — a skip was joined to a map of another side.",
                    "start from skips[-1] (1/32) and join skips[3], [2], [1], [0] in that order, "
                    "each right after the up-sampling that reaches its side.")  # fmt: skip
        return str(error)
    shape = tuple(model.output.shape[1:])
    if shape[:2] == (_SIDE // 2, _SIDE // 2):
        return (f"its output is {shape[0]} × {shape[1]}, half the input side {_SIDE}: the first "
                "skip is at 1/2, so one more up-sampling must follow it.")  # fmt: skip
    if shape != (_SIDE, _SIDE, NUM_CLASSES):
        return f"its output has shape {shape}; expected ({_SIDE}, {_SIDE}, {NUM_CLASSES})."
    return _probability_problem(model) or _unused_skip_problem(model)


def _probability_problem(model: Any) -> Problem:
    """A message when the decoder's output is not per-pixel probabilities."""
    rng = np.random.default_rng(0)
    probs = np.asarray(model([rng.random((1, *x.shape[1:]), np.float32) for x in model.inputs]))
    if probs.min() < 0 or not np.allclose(probs.sum(-1), 1.0, atol=1e-3):
        return "its output is not probabilities (each pixel's values should sum to 1)."
    return None


def _unused_skip_problem(model: Any) -> Problem:
    """A message naming the first skip whose values do not change the output."""
    import tensorflow as tf

    rng = np.random.default_rng(1)
    xs = [
        tf.Variable(rng.standard_normal((1, *x.shape[1:])), dtype="float32") for x in model.inputs
    ]
    weights = tf.constant(rng.standard_normal((1, _SIDE, _SIDE, NUM_CLASSES)), tf.float32)
    with tf.GradientTape() as tape:
        score = tf.reduce_sum(tf.cast(model(xs, training=False), tf.float32) * weights)
    for k, grad in enumerate(tape.gradient(score, xs)):
        if grad is None or not np.any(grad.numpy()):
            side = _SKIPS[k][0]
            return (f"skips[{k}] ({side} × {side}) never reaches the output.",
                    f"concatenate skips[{k}] right after the up-sampling that reaches "
                    f"{side} × {side}.")  # fmt: skip
    return None


def check_resize_upsample(upsample_block: Callable[..., Any]) -> Verdict:
    """Check an up-sampling block that doubles the side without transposed convolutions.

    Exercise of lesson 09, §3 "Checkerboards: resize, then convolve".

    ``upsample_block(x, filters)`` on an 8 × 8 × 16 input must give 16 × 16 × ``filters``,
    resize then convolve (no ``Conv2DTranspose``), and turn a constant image into a constant
    map away from the border (no checkerboard), whatever its random weights.
    """
    return judge(_RESIZE, upsample_block, FUNCTION, _resize_problem)


def _resize_problem(upsample_block: Callable[..., Any]) -> Problem:
    import keras

    inputs = keras.Input((8, 8, 16))
    try:
        out = call_student(upsample_block, "upsample_block", inputs, 4)
        model = student_model(inputs, [out], "upsample_block")
    except ValueError as error:
        return str(error)
    kinds = {type(layer).__name__ for layer in model.layers}
    if "Conv2DTranspose" in kinds:
        return "it still uses Conv2DTranspose, the layer that makes the checkerboards."
    if tuple(model.output.shape[1:]) != (16, 16, 4):
        got = tuple(model.output.shape[1:])
        return f"on 8 × 8 × 16 with filters=4 it gives {got}; expected (16, 16, 4)."
    if not kinds & {"UpSampling2D", "Resizing"} or "Conv2D" not in kinds:
        return "it should resize (UpSampling2D) and then convolve (Conv2D)."
    return _checkerboard_problem(model)


def _checkerboard_problem(model: Any) -> Problem:
    """A message when a constant image comes out with a pattern away from the border.

    With its random initial weights, a transposed convolution of stride 2 and kernel 3 gives
    a constant image a 2-pixel period (lesson 04's checkerboard); resize-then-convolve cannot.
    """
    out = np.asarray(model(np.ones((1, 8, 8, 16), np.float32), training=False))[0, 2:-2, 2:-2]
    spread = out.std(axis=(0, 1)) / (np.abs(out).mean(axis=(0, 1)) + 1e-6)
    if spread.max() > 1e-3:
        return "a constant image comes out patterned away from the border: a checkerboard."
    return None


def check_unfreeze(unfreeze: Callable[..., Any]) -> Verdict:
    """Check unfreezing a model's ``"encoder"`` for fine-tuning, batch norms kept frozen.

    Exercise of lesson 09, §4 "Freezing, fine-tuning and batch normalisation".

    ``unfreeze(model)`` gets a small model whose frozen ``"encoder"`` holds convolutions and
    batch normalisations; afterwards every convolution must train and no batch norm.
    """
    return judge(_UNFREEZE, unfreeze, FUNCTION, _unfreeze_problem)


def _unfreeze_problem(unfreeze: Callable[..., Any]) -> Problem:
    import keras
    from keras import layers

    x = inputs = keras.Input((8, 8, 3))
    for conv in (layers.Conv2D(4, 3), layers.DepthwiseConv2D(3)):
        x = layers.ReLU()(layers.BatchNormalization()(conv(x)))
    encoder = keras.Model(inputs, x, name="encoder")
    encoder.trainable = False
    images = keras.Input((8, 8, 3))
    model = keras.Model(images, layers.Conv2D(3, 1)(encoder(images)))
    try:
        call_student(unfreeze, "unfreeze", model)
    except ValueError as error:
        return str(error)
    convs = [la for la in encoder.layers if isinstance(la, layers.Conv2D)]
    norms = [la for la in encoder.layers if isinstance(la, layers.BatchNormalization)]
    if not encoder.trainable or not all(la.trainable for la in convs):
        return "the encoder's convolutions are still frozen: nothing in the encoder would learn."
    if any(la.trainable for la in norms):
        return ("its batch normalisations are trainable: they would re-estimate their statistics "
                "on small batches of pets (freezing them before `encoder.trainable = True` "
                "does not last: that line sets every layer inside).")  # fmt: skip
    return None
