"""Lesson 04's U-Net checkers compare a student's Keras model with build_unet's layer by layer.

Each layer becomes a row (kind, output shape, parameters, activation, kernel, concatenated
channels); the first row that differs is described, with a hint for the usual mistake there.
Used by :mod:`labutils.checks.lesson04_unet`; imports no Keras itself.
"""

from __future__ import annotations

from typing import Any

#: What each kind of layer does in a U-Net block, for the hint when a student's layer is missing.
_LAYER_HINTS = {
    "InputLayer": "the model starts from keras.Input(shape=(image_size, image_size, 3)).",
    "Conv2D": "each block has two 3×3 convolutions with padding='same' and ReLU; the filters "
    "double at every level down (base_filters · 2**level).",
    "BatchNormalization": "with batch_norm=True every convolution is followed by "
    "BatchNormalization, then the ReLU: conv → BN → ReLU.",
    "MaxPooling2D": "a down block ends with a 2×2 max-pooling; the map before it is the skip.",
    "UpSampling2D": "an up block starts by up-sampling 2× (UpSampling2D(2)).",
    "Concatenate": "the skip connection: Concatenate()([up_sampled, skip]), the encoder's map "
    "of the same size.",
    "Activation": "the head ends in softmax: one probability per class at every pixel.",
}


INPUT_HINT = (
    "build the input from the image side alone: keras.Input(shape=(image_size, image_size, 3)); "
    "the original's img_size + (3,) adds a channel to a shape that already has one."
)


def _keras_kind(layer: Any) -> str:
    """The Keras class a layer is or derives from (FusedBatchNormalization: BatchNormalization)."""
    for cls in type(layer).__mro__:
        if cls.__module__.startswith("keras"):
            return cls.__name__
    return type(layer).__name__


def layer_rows(model: Any) -> list[dict[str, Any]]:
    """One row per layer: kind, output shape, parameters, activation, kernel, concatenated channels.

    Used by ``labutils.checks.lesson04_unet`` too.

    A separate ``Activation`` layer is folded into the layer before it when that one has none,
    so ``Conv2D(..., activation="relu")`` and ``Conv2D`` + ``Activation("relu")`` read the same.
    """
    rows: list[dict[str, Any]] = []
    for layer in model.layers:
        kind = _keras_kind(layer)
        activation = getattr(getattr(layer, "activation", None), "__name__", None)
        if kind == "Activation" and rows and rows[-1]["activation"] in (None, "linear"):
            rows[-1]["activation"] = activation
            continue
        inputs = layer.input if isinstance(layer.input, list) else [layer.input]
        rows.append({
            "kind": kind,
            "shape": tuple(layer.output.shape[1:]),
            "params": layer.count_params(),
            "activation": None if activation == "linear" else activation,
            "kernel": getattr(layer, "kernel_size", None),
            "concat": tuple(t.shape[-1] for t in inputs) if kind == "Concatenate" else None,
        })  # fmt: skip
    return rows


def _describe(row: dict[str, Any]) -> str:
    """``Conv2D 3×3 → (64, 64, 16), 432 parameters, relu``."""
    kernel = f" {row['kernel'][0]}×{row['kernel'][1]}" if row["kernel"] else ""
    concat = f" of {' + '.join(map(str, row['concat']))} channels" if row["concat"] else ""
    activation = f", {row['activation']}" if row["activation"] else ""
    return (
        f"{row['kind']}{kernel}{concat} → {row['shape']}, {row['params']:,} parameters{activation}"
    )


def _row_hint(yours: dict[str, Any], theirs: dict[str, Any], is_head: bool) -> str:
    """The hint for the first layer where a student's model differs from build_unet's."""
    if yours["kind"] != theirs["kind"]:
        return _LAYER_HINTS.get(theirs["kind"], "compare your layers with the list above.")
    if theirs["kind"] == "InputLayer":
        return INPUT_HINT
    if theirs["kind"] == "Conv2D":
        filters = theirs["shape"][-1]
        if is_head and yours["kernel"] != theirs["kernel"]:
            return (
                f"the head is a {theirs['kernel'][0]}×{theirs['kernel'][1]} convolution: "
                "the U-Net paper classifies every pixel with a 1×1 convolution, not 3×3."
            )
        if yours["params"] == theirs["params"] + filters and yours["kernel"] == theirs["kernel"]:
            return (
                "a convolution followed by batch normalisation needs no bias "
                "(use_bias=False): BN's β adds one per channel after it."
            )
        if yours["activation"] != theirs["activation"]:
            return (
                "with batch normalisation the ReLU comes after it: Conv2D (no activation) → "
                "BatchNormalization → Activation('relu')."
                if theirs["activation"] is None
                else "every convolution of a block ends in a ReLU (the head in softmax)."
            )
        if yours["shape"][:2] != theirs["shape"][:2]:
            return "use padding='same', so a convolution keeps the height and width."
        if yours["shape"][-1] != theirs["shape"][-1]:
            return "the filters double at every level down: base_filters · 2**level."
    if theirs["kind"] == "Concatenate" and yours["concat"] == theirs["concat"][::-1]:
        return (
            "concatenate in the order [up_sampled, skip], as build_unet does, so that its "
            "weights fit your model."
        )
    if theirs["kind"] == "Concatenate":
        return "concatenate the up-sampled map with the skip of the same resolution."
    return _LAYER_HINTS.get(theirs["kind"], "compare your layers with the list above.")


def first_difference(
    yours: list[dict[str, Any]], theirs: list[dict[str, Any]], what: str
) -> tuple[str, str] | None:
    """``(problem, hint)`` at the first row where two layer lists differ, or ``None``.

    Used by ``labutils.checks.lesson04_unet`` too.
    """
    head = max((i for i, r in enumerate(theirs) if r["kind"] == "Conv2D"), default=-1)
    for i in range(max(len(yours), len(theirs))):
        if i >= len(yours):
            return (
                f"{what} stops after layer {i - 1}; build_unet goes on with layer {i}: "
                f"{_describe(theirs[i])}.",
                _LAYER_HINTS.get(theirs[i]["kind"], "compare your layers with the list above."),
            )
        if i >= len(theirs):
            return (
                f"{what} has more layers than build_unet's {len(theirs)}, from layer {i}: "
                f"{_describe(yours[i])}.",
                "build_unet's block is two convolutions; check for a layer added twice.",
            )
        if yours[i] != theirs[i]:
            return (
                f"layer {i} differs: yours is {_describe(yours[i])}; build_unet's is "
                f"{_describe(theirs[i])}.",
                _row_hint(yours[i], theirs[i], is_head=i == head),
            )
    return None
