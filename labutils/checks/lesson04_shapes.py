"""Checkers of lesson 04, "Building a U-Net", worked on paper: the output's shape, the
parameters of a convolution and the receptive field of a stack of layers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from labutils.checks.verdict import NUMBER, SHAPE, Exercise, Problem, Verdict, diagnose, judge

__all__ = ["check_conv_parameters", "check_receptive_field", "check_unet_output_shape"]

_OUTPUT_SHAPE = Exercise(
    "Exercise 1 (output shape)",
    "the output keeps the input's height and width and has one channel per class.",
)
_CONV_PARAMETERS = Exercise(
    "Exercise 2 (parameters of a convolution)",
    "each filter has a k×k kernel for every input channel, plus one bias.",
)
_RECEPTIVE_FIELD = Exercise(
    "Exercise 3 (receptive field)",
    "start at the output with D' = 1 and apply D = S·(D' − 1) + K, last layer first.",
)


def check_unet_output_shape(
    answer: Any, batch_size: int, image_size: int, num_classes: int, depth: int = 3
) -> Verdict:
    """Check the predicted shape of a U-Net's output on a batch.

    Exercise of lesson 04, §2 "Segmentation is an image-to-image map".

    Args:
        answer: the shape as a tuple of integers, e.g. ``(5, 96, 96, 4)``; ``None`` when not
            answered yet.
        batch_size: images in the batch the model is given.
        image_size: side S of the square input images.
        num_classes: classes the model was built for.
        depth: down-samplings of the U-Net (to recognise the bottleneck's resolution).

    Returns:
        Whether the shape is ``(batch_size, image_size, image_size, num_classes)``; prints the
        verdict and a hint.

    >>> check_unet_output_shape((5, 96, 96, 4), batch_size=5, image_size=96, num_classes=4)
    ✅ Exercise 1 (output shape): correct.
    Verdict(passed=True)
    """
    sizes = batch_size, image_size, num_classes, depth
    return judge(_OUTPUT_SHAPE, answer, SHAPE, lambda shape: _output_shape_problem(shape, *sizes))


def _output_shape_problem(shape: tuple, b: int, s: int, c: int, depth: int) -> Problem:
    """What is wrong with ``shape`` as the output of a batch of b images S×S, C classes."""
    low = s // 2**depth
    mistakes = [
        ((b, s, s, 3), "3 channels is one per colour of the input: the output has one per class."),
        ((b, s, s), "that is the mask after argmax; the model itself outputs probabilities."),
        ((b, s, s, 1), "one channel would be one number per pixel; softmax gives one per class."),
        ((s, s, c), "the batch axis is missing: the model returns one result per image."),
        ((None, s, s, c), f"None is model.output_shape's unknown batch; here it holds {b} images."),
        ((b, low, low, c), "that is the bottleneck's resolution; the decoder up-samples it back."),
    ]
    otherwise = f"a batch of {b} images of {s}×{s} pixels does not give {shape}."
    return diagnose(shape, (b, s, s, c), mistakes, otherwise, _same_shape)


def _same_shape(x: tuple, y: tuple) -> bool:
    """Whether two shapes are equal (``None`` only equals ``None``)."""
    return tuple(x) == tuple(y)


def check_conv_parameters(
    answer: Any, kernel_size: int, in_channels: int, filters: int, skip_channels: int = 0
) -> Verdict:
    """Check the number of parameters of a ``Conv2D`` layer with biases.

    Exercise of lesson 04, §4 "The U-Net: down, across and up".

    Args:
        answer: a whole number; ``None`` when not answered yet.
        kernel_size: side k of the square kernel.
        in_channels: channels of the layer's input, all of them (skip channels included).
        filters: output channels.
        skip_channels: how many of ``in_channels`` come from a skip connection (to recognise
            an answer that forgets them).

    Returns:
        Whether the answer is ``k·k·in_channels·filters + filters``; prints the verdict and a
        hint.

    >>> check_conv_parameters(3 * 3 * 2 * 4, kernel_size=3, in_channels=2, filters=4)
    ❌ Exercise 2 (parameters of a convolution): that forgets the biases: one per filter.
       Hint: each filter has a k×k kernel for every input channel, plus one bias.
    Verdict(passed=False)
    """
    layer = kernel_size, in_channels, filters, skip_channels
    return judge(_CONV_PARAMETERS, answer, NUMBER, lambda n: _conv_parameters_problem(n, *layer))


def _conv_parameters_problem(
    value: float, kernel_size: int, in_channels: int, f: int, skip_channels: int
) -> Problem:
    """What is wrong with ``value`` parameters for a k×k convolution of ``f`` filters."""
    k2 = kernel_size**2
    mistakes = [
        (k2 * in_channels * f, "that forgets the biases: one per filter."),
        (k2 * (in_channels - skip_channels) * f + f, "the input is the concatenation: the "
         "up-sampled channels plus the skip connection's."),
        (kernel_size * in_channels * f + f, f"a {kernel_size}×{kernel_size} kernel has {k2} "
         f"weights per input channel, not {kernel_size}."),
        (k2 * f + f, "each filter has one kernel per input channel, not one in all."),
        (k2 * in_channels * f + 1, "there is one bias per filter, not one per layer."),
    ]  # fmt: skip
    otherwise = "that is not the number of weights plus biases of this layer."
    return diagnose(value, k2 * in_channels * f + f, mistakes, otherwise, np.equal)


def _receptive_field(layers: Sequence[tuple[int, float]]) -> int:
    """D = ⌈S·(D' − 1) + K⌉ from one output pixel (D' = 1) back to the input."""
    size = 1
    for kernel, stride in reversed(layers):
        size = math.ceil(stride * (size - 1) + kernel)
    return size


def check_receptive_field(answer: Any, layers: Sequence[tuple[int, float]]) -> Verdict:
    """Check the receptive field of a stack of convolutions and poolings.

    Exercise of lesson 04, §5 "How far does an output pixel see? The receptive field".

    Args:
        answer: the side of the receptive field in input pixels; ``None`` when not answered.
        layers: ``(kernel, stride)`` of each layer, from the input to the output.

    Returns:
        Whether the answer is the size D at the input of the recurrence D = S·(D' − 1) + K
        applied from the output (D' = 1) back to the input; prints the verdict and a hint.

    >>> check_receptive_field(7, [(3, 1), (2, 2)])  # 1 → 2 (the pooling) → 4 (the convolution)
    ❌ Exercise 3 (receptive field): the −1 is missing: D' pixels have D' − 1 gaps of S pixels
       between their centres, and the kernel adds K.
       Hint: start at the output with D' = 1 and apply D = S·(D' − 1) + K, last layer first.
    Verdict(passed=False)
    """
    return judge(_RECEPTIVE_FIELD, answer, NUMBER, lambda n: _receptive_field_problem(n, layers))


def _receptive_field_problem(value: float, layers: Sequence[tuple[int, float]]) -> Problem:
    """What is wrong with ``value`` as the receptive field of ``layers``, or None."""
    forward = _receptive_field(list(layers)[::-1])  # the recurrence run input to output
    minus_one_dropped = 1
    for kernel, stride in reversed(layers):
        minus_one_dropped = math.ceil(stride * minus_one_dropped + kernel)
    mistakes = [
        (forward, "the recurrence ran from the input to the output; it goes backwards, from "
         "one output pixel to the input pixels it sees."),
        (1 + sum(k - 1 for k, _ in layers), "that ignores the strides: after a stride-2 layer "
         "every step of the later layers covers 2 input pixels."),
        (minus_one_dropped, "the −1 is missing: D' pixels have D' − 1 gaps of S pixels between "
         "their centres, and the kernel adds K."),
    ]  # fmt: skip
    otherwise = "that is not the receptive field of this stack."
    return diagnose(value, _receptive_field(layers), mistakes, otherwise, np.equal)
