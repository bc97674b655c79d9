"""The lab's recommended way to train a U-Net, as settings: :class:`TrainConfig` and its checks.

Taught in lesson 05, whose §8 shows the recipe beside the lesson's Configuration;
``training.train_unet`` fits it and ``python -m labutils train`` runs it with the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import tensorflow as tf

from labutils.dtype_policy import choose_dtype_policy
from labutils.models import build_unet, recommended_config

__all__ = [
    "BFLOAT16_CPU_STAGES",
    "BFLOAT16_CPU_WIDTH",
    "GPU_BATCH_SIZE",
    "GPU_TIME_BUDGET_MIN",
    "TrainConfig",
    "check_config",
    "stage_sides",
]

#: GPU defaults of :meth:`TrainConfig.for_device` (set without measuring: no GPU was lent):
#: larger batches, and a budget meant as a cap that the epochs end first.
GPU_BATCH_SIZE = 64
GPU_TIME_BUDGET_MIN = 60.0
#: What :meth:`TrainConfig.for_device` changes on a CPU that trains in ``mixed_bfloat16``
#: (one with bfloat16 units): there, 16 filters with two small-image stages trained more
#: images per second and reached a higher validation mIoU than the float32 defaults in the
#: same minutes (benchmarks/README.md, the lever table of the CPU uncapped).
BFLOAT16_CPU_WIDTH = 16
BFLOAT16_CPU_STAGES = ((0.5, 0.5), (0.75, 0.8))


@dataclass
class TrainConfig:
    """The lab's recipe for a float32 CPU; :meth:`for_device` adapts it to bfloat16 CPUs and GPUs.

    Used in lesson 05, §8 "Fitting it into a few minutes on a CPU (optional)"; in
    lesson 06, §1 "The model, and the photos that chose it"; in lesson 07, §3 "Boxes from
    the segmentation model"; and in lesson 09, §5 "A fair comparison: a U-Net trained from scratch".
    What it reaches is measured by ``python -m benchmarks.run``, not stated here.

    Attributes:
        model: ``build_unet`` arguments (``image_size`` included).
        batch_size: images per step.
        learning_rate: peak learning rate of the warm-up + cosine schedule (Adam).
        epochs: upper bound on epochs; the schedule ends at this or at the budget.
        time_budget_min: wall-clock minutes for ``fit`` (``None``: the epochs decide).
        warmup: fraction of the schedule spent warming up linearly from 0.
        stages: the small-image stages before full size (``callbacks.ProgressiveResize``):
            ``(scale, until)`` pairs, each training images of ``scale`` × the full side until
            ``until`` of the schedule is done; ``()`` trains at full size throughout.
        jit_compile: compile the training step with XLA: ``True`` always, ``"small"`` during
            the small-image stages only; validation stays a TensorFlow graph. Off by default:
            on a 2-core AVX2 CPU in float32, XLA for the small stages bought fewer images per
            minute than the graph, its compile time included (benchmarks/README.md, levers).
        loss: ``"ce+dice"`` (cross-entropy + soft Dice) or ``"ce"`` (cross-entropy only).
        augment: random flips and zooms of training batches.
        precision: ``"auto"`` or a dtype policy (see ``dtype_policy.choose_dtype_policy``).
        patience: early stopping patience in epochs on ``val_miou`` (``None``: no early stop;
            the best validation epoch is kept either way).
        seed: seed of weights, shuffling and augmentation.

    >>> config = TrainConfig(epochs=5)
    >>> config.epochs, config.model["image_size"], config.loss
    (5, 128, 'ce+dice')
    """

    model: dict[str, Any] = field(default_factory=recommended_config)
    batch_size: int = 16
    learning_rate: float = 4e-3
    epochs: int = 300
    time_budget_min: float | None = 13.0
    warmup: float = 0.03
    stages: tuple[tuple[float, float], ...] = ((0.5, 0.4),)
    jit_compile: bool | str = False
    loss: str = "ce+dice"
    augment: bool = True
    precision: str = "auto"
    patience: int | None = None
    seed: int = 42

    @classmethod
    def for_device(cls, device: str | None = None, **overrides: Any) -> TrainConfig:
        """The recommended recipe for a CPU (the field defaults) or for a GPU.

        On a GPU the steps are cheap, so batches are larger (:data:`GPU_BATCH_SIZE`) and
        the budget is a generous cap (:data:`GPU_TIME_BUDGET_MIN`) that the epochs normally
        end first, instead of the CPU's ``time_budget_min``. On a CPU whose precision comes
        out as ``"mixed_bfloat16"`` (bfloat16 units), the U-Net is :data:`BFLOAT16_CPU_WIDTH`
        filters wide with the stages :data:`BFLOAT16_CPU_STAGES`: the field defaults are the
        recipe for float32 CPUs, measured slower and weaker there. ``overrides`` win over both.

        Args:
            device: ``"cpu"``, ``"gpu"``, or ``None`` to use a GPU's defaults when
                TensorFlow sees one.
            overrides: fields to set, e.g. ``epochs=5``.

        Returns:
            A TrainConfig.

        Raises:
            ValueError: ``device`` is not ``"cpu"``, ``"gpu"`` or ``None``.

        >>> TrainConfig.for_device("gpu").batch_size == GPU_BATCH_SIZE
        True
        >>> TrainConfig.for_device("cpu", epochs=5, precision="float32").model["base_filters"]
        8
        >>> TrainConfig.for_device("cpu", precision="mixed_bfloat16").model["base_filters"]
        16
        """
        if device not in (None, "cpu", "gpu"):
            raise ValueError(f"device must be 'cpu', 'gpu' or None, got {device!r}.")
        if device is None:
            device = "gpu" if tf.config.list_physical_devices("GPU") else "cpu"
        if device == "gpu":
            overrides = {"batch_size": GPU_BATCH_SIZE, "time_budget_min": GPU_TIME_BUDGET_MIN,
                         **overrides}  # fmt: skip
        elif choose_dtype_policy(overrides.get("precision", "auto")) == "mixed_bfloat16":
            model = {**recommended_config(), "base_filters": BFLOAT16_CPU_WIDTH}
            overrides = {"model": model, "stages": BFLOAT16_CPU_STAGES, **overrides}
        return cls(**overrides)


def stage_sides(config: TrainConfig) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """The sides and ends of the small-image stages under ``config``, for ProgressiveResize.

    Used in lesson 05, §8 "Fitting it into a few minutes on a CPU (optional)", and by
    ``training.train_unet`` for ``callbacks.ProgressiveResize``.

    Each ``scale`` × the model's side is rounded down to a multiple of ``2**depth`` so that the
    skip connections line up; stages that round to 0 or to the full side are dropped.

    Returns:
        ``(sides, until)``: the stages' sides and the fractions of the schedule where they end
        (both empty: full size throughout).

    Raises:
        ValueError: a scale outside (0, 1], or ends that do not increase within [0, 1].

    >>> stage_sides(TrainConfig(model={"image_size": 128, "depth": 4}, stages=((0.4, 0.5),)))
    ((48,), (0.5,))
    >>> stage_sides(TrainConfig(stages=()))  # full size throughout
    ((), ())
    """
    ends = [0.0] + [until for _, until in config.stages]
    scales = [scale for scale, _ in config.stages]
    if (
        not all(0.0 < scale <= 1.0 for scale in scales)
        or any(b <= a for a, b in zip(ends, ends[1:], strict=False))
        or ends[-1] > 1.0
    ):
        raise ValueError(
            f"stages must be (scale, until) pairs with scales in (0, 1] and ends increasing "
            f"within [0, 1]; got {config.stages}. Use stages=() to train at full size throughout."
        )
    side, multiple = config.model["image_size"], 2 ** config.model.get("depth", 3)
    kept = [(int(side * scale) // multiple * multiple, until) for scale, until in config.stages]
    kept = [(small, until) for small, until in kept if 0 < small < side and until > 0]
    return tuple(s for s, _ in kept), tuple(u for _, u in kept)


def check_config(config: TrainConfig) -> None:
    """Raise a ValueError naming the fix for a recipe ``training.train_unet`` cannot run.

    Cheap (it builds the model once, no data): ``python -m labutils train`` (lesson 05, §8)
    calls it before it decodes a photo.

    Raises:
        ValueError: a model ``build_unet`` cannot build (e.g. an image side that is not a
            multiple of ``2**depth``), bad stages, precision or loss, or numbers out of range.
    """
    if config.batch_size < 1 or config.epochs < 1 or not config.learning_rate > 0:
        raise ValueError(
            f"batch_size and epochs must be at least 1 and learning_rate positive; got "
            f"{config.batch_size}, {config.epochs} and {config.learning_rate}."
        )
    if config.loss not in ("ce+dice", "ce") or config.jit_compile not in (True, False, "small"):
        raise ValueError(
            f"loss must be 'ce+dice' or 'ce', and jit_compile True, False or 'small'; got "
            f"{config.loss!r} and {config.jit_compile!r}."
        )
    stage_sides(config)
    choose_dtype_policy(config.precision)
    build_unet(**config.model)  # raises for a side, depth or width it cannot build
