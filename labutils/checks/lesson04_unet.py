"""Checkers of lesson 04, "Building a U-Net", §7: the student's blocks and whole U-Net in Keras.

Each is built (Keras is imported only then) and compared layer by layer with
:func:`labutils.models.build_unet`'s, by :mod:`labutils.checks.lesson04_layers`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from labutils.checks.lesson04_layers import INPUT_HINT, first_difference, layer_rows
from labutils.checks.verdict import FUNCTION, Exercise, Problem, Verdict, call_student, judge
from labutils.vocabulary import NUM_CLASSES

__all__ = ["check_conv_block", "check_down_block", "check_unet", "check_up_block", "student_model"]

_CONV = Exercise(
    "Exercise 4 (convolution block)",
    "two Conv2D(filters, 3, padding='same'), each followed by a ReLU.",
)
_DOWN = Exercise(
    "Exercise 5 (down block)",
    "conv_block, then MaxPooling2D(2); return both maps: (skip, pooled).",
)
_UP = Exercise(
    "Exercise 6 (up block with its skip connection)",
    "UpSampling2D(2), then Concatenate()([up_sampled, skip]), then conv_block.",
)
_UNET = Exercise(
    "Exercise 7 (the whole U-Net)",
    "down blocks, a bottleneck conv_block, up blocks with their skips, a 1×1 softmax head.",
)


class _Mistake(Exception):
    """A problem found while building a student's block, with its own hint."""

    def __init__(self, problem: str, hint: str) -> None:
        super().__init__(problem)
        self.problem, self.hint = problem, hint


def student_model(inputs: Any, outputs: list[Any], name: str) -> Any:
    """``keras.Model(inputs, outputs)``, or a ValueError when outputs are not Keras tensors.

    Used by ``labutils.checks.lesson09`` too.
    """
    import keras

    if not all(isinstance(t, keras.KerasTensor) for t in outputs):
        got = ", ".join(type(t).__name__ for t in outputs)
        raise ValueError(f"your {name} should return Keras tensors (layer outputs), got {got}.")
    return keras.Model(inputs, outputs if len(outputs) > 1 else outputs[0])


def _one_map(inputs: Any, result: Any, name: str) -> Any:
    """The model of a block that returns one map."""
    return student_model(inputs, [result], name)


def _skip_and_pooled(inputs: Any, result: Any, name: str) -> Any:
    """The model of a down block, which returns ``(skip, pooled)`` on an 8×8 input."""
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise _Mistake(
            f"{name} should return two maps (skip, pooled), got {type(result).__name__}.",
            "the decoder needs the map before the pooling: return it too.",
        )
    model = student_model(inputs, list(result), name)
    shapes = [tuple(t.shape[1:3]) for t in result]
    if shapes != [(8, 8), (4, 4)]:
        raise _Mistake(
            f"on an 8×8 input it returned maps of {shapes[0]} and {shapes[1]}; expected the "
            "skip at (8, 8) first, then the pooled map at (4, 4).",
            "return (skip, pooled) in that order, the skip taken before MaxPooling2D.",
        )
    return model


@dataclass(frozen=True)
class _Block:
    """One block exercise: how to call the student's function, and what to compare it with."""

    name: str  #: the student's function, e.g. "down_block"
    exercise: Exercise  #: its name and hint, e.g. _CONV
    inputs: tuple[tuple[int, int, int], ...]  #: shapes of the maps passed before filters=6
    model: Callable[[Any, Any, str], Any] = _one_map  #: (inputs, result, name) -> keras.Model

    def check(self, answer: Any) -> Verdict:
        """Print and return the verdict on the student's function ``answer``."""
        return judge(self.exercise, answer, FUNCTION, self._problem)

    def _problem(self, fn: Callable[..., Any]) -> Problem:
        """Build the student's block for both batch_norm values; compare it with build_unet's."""
        for batch_norm in (False, True):
            try:
                model = self._build(fn, batch_norm)
            except _Mistake as mistake:
                return mistake.problem, mistake.hint
            except Exception as error:  # noqa: BLE001 – the student's code or Keras refusing it
                first_line = (str(error).strip().splitlines() or [""])[0][:200]
                return first_line, "run your function on a keras.Input to see the full error."
            yours = [r for r in layer_rows(model) if r["kind"] != "InputLayer"]
            theirs = _reference_rows(batch_norm, self.name)
            found = first_difference(yours, theirs, f"your {self.name}")
            if found is not None:
                problem, hint = found
                return f"with batch_norm={batch_norm}, {problem}", hint
        return None

    def _build(self, fn: Callable[..., Any], batch_norm: bool) -> Any:
        """Call the student's block on fresh ``keras.Input`` maps; the model from them."""
        import keras

        inputs = [keras.Input(shape) for shape in self.inputs]
        result = call_student(fn, self.name, *inputs, 6, batch_norm=batch_norm)
        return self.model(inputs if len(inputs) > 1 else inputs[0], result, self.name)


def _reference_rows(batch_norm: bool, block: str) -> list[dict[str, Any]]:
    """build_unet's rows for ``block``, from a one-level U-Net (8×8, 6 filters)."""
    from labutils.models import build_unet

    rows = layer_rows(build_unet(image_size=8, base_filters=6, depth=1, batch_norm=batch_norm))
    kinds = [row["kind"] for row in rows]
    pool, up = kinds.index("MaxPooling2D"), kinds.index("UpSampling2D")
    spans = {  # after the InputLayer; the up block stops before the head
        "conv_block": slice(1, pool),
        "down_block": slice(1, pool + 1),
        "up_block": slice(up, -1),
    }
    return rows[spans[block]]


_CONV_BLOCK = _Block("conv_block", _CONV, inputs=((8, 8, 3),))
_DOWN_BLOCK = _Block("down_block", _DOWN, inputs=((8, 8, 3),), model=_skip_and_pooled)
_UP_BLOCK = _Block("up_block", _UP, inputs=((4, 4, 12), (8, 8, 6)))


def check_conv_block(conv_block: Callable[..., Any] | None) -> Verdict:
    """Check a student's ``conv_block(x, filters, batch_norm)``.

    Exercise of lesson 04, §7 "Write the U-Net in Keras". It is called on an 8×8×3
    ``keras.Input`` with 6 filters, with and without batch normalisation.

    Args:
        conv_block: the student's function; ``None`` when not answered yet.

    Returns:
        Whether it builds build_unet's layers (two 3×3 'same' convolutions with ReLU; conv →
        BN → ReLU without a bias when ``batch_norm``), with the same output shapes and
        parameters; prints the first differing layer and a hint.
    """
    return _CONV_BLOCK.check(conv_block)


def check_down_block(down_block: Callable[..., Any] | None) -> Verdict:
    """Check a student's ``down_block(x, filters, batch_norm)``.

    Exercise of lesson 04, §7 "Write the U-Net in Keras". Called like ``conv_block``, it
    must return two maps.

    Args:
        down_block: the student's function, or ``None`` while it is not written.

    Returns:
        Whether it returns ``(skip, pooled)``: the convolution block's output and that output
        max-pooled 2×2, with build_unet's layers; prints what differs and a hint.
    """
    return _DOWN_BLOCK.check(down_block)


def check_up_block(up_block: Callable[..., Any] | None) -> Verdict:
    """Check a student's ``up_block(x, skip, filters, batch_norm)``.

    Exercise of lesson 04, §7 "Write the U-Net in Keras". ``x`` is a 4×4×12 map, ``skip``
    an 8×8×6 one, and ``filters`` 6.

    Args:
        up_block: the function the student wrote (``None``: not answered yet).

    Returns:
        Whether it up-samples ``x`` 2×, concatenates ``[up_sampled, skip]`` and applies the
        convolution block, with build_unet's layers; prints what differs and a hint.
    """
    return _UP_BLOCK.check(up_block)


#: The configurations the U-Net checker builds: (description, unet's keyword arguments).
_UNET_CASES = (
    ("its defaults (the original lab's U-Net, 64×64)", {}),
    ("image_size=32, base_filters=4, depth=2", dict(image_size=32, base_filters=4, depth=2)),
    (
        "image_size=32, num_classes=4, base_filters=4, depth=3, batch_norm=True",
        dict(image_size=32, num_classes=4, base_filters=4, depth=3, batch_norm=True),
    ),
)
_UNET_DEFAULTS = dict(
    image_size=64, num_classes=NUM_CLASSES, base_filters=64, depth=3, batch_norm=False
)


def check_unet(unet: Callable[..., Any] | None) -> Verdict:
    """Check a student's U-Net against ``models.build_unet(..., head_kernel=1)``.

    Exercise of lesson 04, §7 "Write the U-Net in Keras".

    ``unet(image_size=64, num_classes=3, base_filters=64, depth=3, batch_norm=False)`` is built
    with its defaults and two smaller configurations; for each, its layers (kind, output shape,
    parameters, activation) are compared one by one with build_unet's.

    Args:
        unet: the student's function, ``None`` when not answered yet.

    Returns:
        Whether every layer agrees; prints the first differing layer of the first
        configuration that differs, both parameter counts, and a hint.
    """
    return judge(_UNET, unet, FUNCTION, _unet_problem)


def _unet_problem(unet: Callable[..., Any]) -> Problem:
    """Build the student's U-Net in every configuration; the first difference, or None."""
    from labutils.models import build_unet

    for description, kwargs in _UNET_CASES:
        try:
            model = call_student(unet, "unet", **kwargs)
            if not hasattr(model, "layers"):
                got = type(model).__name__
                raise ValueError(f"your unet should return a keras.Model, got {got}.")
        except ValueError as error:
            detail = getattr(error, "detail", "")  # a Conv2D refusing (None, S, S, 1, 3)?
            five_d = "ndim=5" in detail or re.search(r"\(None(, \d+){4}\)", detail) is not None
            return f"with {description}: {error}", INPUT_HINT if five_d else _UNET.hint
        reference = build_unet(**{**_UNET_DEFAULTS, **kwargs}, head_kernel=1)
        found = first_difference(layer_rows(model), layer_rows(reference), "your unet")
        if found is not None:
            problem, row_hint = found
            counts = f"(parameters: yours {model.count_params():,}, build_unet's "
            counts += f"{reference.count_params():,})"
            return f"with {description}, {problem} {counts}", row_hint
    return None
