"""``python -m labutils train``: fit the lab's recommended U-Net, save it, score it once.

It writes ``MODEL.keras`` plus ``MODEL.json`` (the configuration, the history, validation and
test metrics and the wall time). TensorFlow is imported when the command runs, not when the
parser is built.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from labutils.cli import evaluate
from labutils.cli.numbers import minutes, positive_float, positive_int, stages, stages_text
from labutils.splits import TEST_SPLIT, TRAIN_SPLIT, VAL_SPLIT  # the protocol; no TensorFlow

if TYPE_CHECKING:
    import keras

    from labutils.training import TrainConfig

__all__ = ["add_subcommands", "print_choices"]

_BUDGET_MIN = 14.0  # the lesson's promise is 15 minutes on a 2-core laptop CPU
_RESERVE_MIN = 0.75  # kept for the last validation pass, saving, and scoring three ways


class _RecipeHelp(argparse.HelpFormatter):
    """Fills ``{batch_size}``-style fields of the help from ``training.TrainConfig``.

    The defaults are the recipe's own, read when ``--help`` is printed (only then is
    TensorFlow imported), so no help string repeats a number that TrainConfig holds.
    """

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = super()._get_help_string(action)
        if not text or "{" not in text:
            return text
        from labutils import training

        config = training.TrainConfig()
        return text.format(**{**vars(config), **config.model},
                           stages_text=stages_text(config.stages),
                           gpu_batch_size=training.GPU_BATCH_SIZE, budget=_BUDGET_MIN,
                           gpu_budget=training.GPU_TIME_BUDGET_MIN,
                           bf16_width=training.BFLOAT16_CPU_WIDTH,
                           bf16_stages=stages_text(training.BFLOAT16_CPU_STAGES))  # fmt: skip


def _add_train(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser(
        "train",
        formatter_class=_RecipeHelp,
        help="train the recommended U-Net and save it with a JSON report",
        description="Train on --train-split, validate on --val-split after every epoch and "
        "keep the epoch with the best validation mean IoU, then score it once on --test-split. "
        "The default splits are the course's protocol (labutils.splits): the validation photos "
        "are carved from the official training photos, never taken from the test photos. "
        "By default the run is time-budgeted: the learning rate follows a cosine of the "
        "elapsed fraction of --time-budget and training stops when it is spent. Every "
        "argument is checked before any photo is decoded.",
    )
    add = train.add_argument
    add("--data", default="auto", help="dataset folder, 'tfds' or 'synthetic'")
    add("--out", required=True, type=Path, help="where to write MODEL.keras")
    add("--img-size", type=positive_int, help="input side (default {image_size})")
    add("--epochs", type=positive_int, help="most epochs (default {epochs})")
    add("--time-budget", type=minutes,
        help="minutes for the whole command, 0 for no limit (default {budget:g} on a CPU, "
             "{gpu_budget:g} on a GPU, where epochs are cheap): training stops in time to save "
             "and score the model")  # fmt: skip
    add(
        "--batch-size",
        type=positive_int,
        help="images per step (default {batch_size}, {gpu_batch_size} on a GPU)",
    )
    add("--lr", type=positive_float, help="peak learning rate (default {learning_rate:g})")
    add("--base-filters", type=positive_int,
        help="first block's filters (default {base_filters}; {bf16_width} on a CPU with bfloat16 "
             "units, where it trained faster)")  # fmt: skip
    add("--depth", type=positive_int, help="number of down-samplings (default {depth})")
    add("--stages", type=stages,
        help="small images first, SCALE:UNTIL pairs: SCALE × --img-size until UNTIL of the "
             "schedule (default {stages_text}, {bf16_stages} on a CPU with bfloat16 units; "
             "'none': full size throughout)")  # fmt: skip
    add("--loss", choices=["ce+dice", "ce"], help="loss (default {loss})")
    add("--no-augment", action="store_true", help="no flips or zooms")
    add("--precision", choices=["auto", "float32", "mixed_bfloat16", "mixed_float16"],
        help="default {precision}: mixed_float16 on GPUs of compute capability >= 7.0, "
             "mixed_bfloat16 on CPUs with bfloat16 units, else float32")  # fmt: skip
    add("--stream", action="store_true",
        help="decode the images every epoch instead of once, holding only a shuffle buffer in "
             "memory (for the full dataset on a small machine; slower per epoch)")  # fmt: skip
    add("--resume", type=Path, help="start from these weights (.keras/.weights.h5)")
    add("--train-split", default=TRAIN_SPLIT, help="default: %(default)s")
    add("--val-split", default=VAL_SPLIT, help="chooses the epoch (default: %(default)s)")
    add("--test-split", default=TEST_SPLIT,
        help="scored once at the end; 'none' to skip (default: %(default)s)")  # fmt: skip
    add("--seed", type=int, default=42)
    train.set_defaults(func=_run_train)


def add_subcommands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``train``; it sets ``func``, the function that runs it.

    Used in lesson 05, §8 "Fitting it into a few minutes on a CPU (optional)" (the
    recipe that ``python -m labutils train`` runs).

    Args:
        subparsers: the object returned by ``parser.add_subparsers()`` of ``python -m labutils``.
    """
    _add_train(subparsers)


def _train_config(args: argparse.Namespace) -> TrainConfig:
    """The recommended TrainConfig with the command line's overrides."""
    from labutils import training

    precision = {} if args.precision is None else {"precision": args.precision}
    config = training.TrainConfig.for_device(seed=args.seed, augment=not args.no_augment,
                                             **precision)  # fmt: skip  # it picks the width
    overrides = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.lr,
        "stages": args.stages,
        "loss": args.loss,
    }
    for name, value in overrides.items():
        if value is not None:
            setattr(config, name, value)
    model = {"image_size": args.img_size, "base_filters": args.base_filters, "depth": args.depth}
    config.model.update({k: v for k, v in model.items() if v is not None})
    return config


def _fit_minutes(budget_min: float, elapsed_s: float) -> float | None:
    """Minutes left for ``fit`` out of the command's budget (``None`` when unlimited)."""
    if not budget_min:
        return None
    left = budget_min - elapsed_s / 60 - _RESERVE_MIN
    if left <= 0:
        raise ValueError(
            f"--time-budget {budget_min:g} minutes is spent before training starts (loading "
            f"took {elapsed_s / 60:.1f} minutes): give more minutes, or 0 for no limit."
        )
    return round(left, 2)


def _progress_callback(budget_min: float | None) -> keras.callbacks.Callback:
    """A callback that writes one line per epoch to stderr."""
    import keras

    start = time.perf_counter()

    def report(epoch: int, logs: dict) -> None:
        elapsed = time.perf_counter() - start
        of = f" of {budget_min:.1f}" if budget_min else ""
        print(
            f"epoch {epoch + 1}: {elapsed / 60:.1f}{of} min, loss {logs['loss']:.3f}, "
            f"val_miou {logs.get('val_miou', float('nan')):.3f}",
            file=sys.stderr,
            flush=True,
        )

    return keras.callbacks.LambdaCallback(on_epoch_end=report)


def _run_train(args: argparse.Namespace) -> None:
    start = time.perf_counter()
    if args.out.suffix != ".keras":
        raise ValueError(f"--out must end in .keras (the Keras model format), got {args.out}.")
    if args.resume is not None and not args.resume.is_file():
        raise FileNotFoundError(f"--resume {args.resume}: no such weights file.")
    from labutils import data, pipeline, training

    config = _train_config(args)
    training.check_config(config)
    print_choices(config)
    source = data.find_source(args.data, verbose=False)
    print(f"Data source: {source.description}", file=sys.stderr)
    splits = {"train": args.train_split, "validation": args.val_split}
    _check_splits({**splits, "test": args.test_split}, source)
    size = config.model["image_size"]
    if args.stream:  # decode the files every epoch: memory holds a shuffle buffer, not the split
        images = {name: len(data.load_pets(split, source)) for name, split in splits.items()}
        train_data, val_data = (
            pipeline.make_dataset(split, source, size, config.batch_size, augment=augment,
                                  shuffle=augment, cache=False)
            for split, augment in ((args.train_split, config.augment), (args.val_split, False))
        )  # fmt: skip
    else:  # the fast path: decode once, keep uint8 arrays in memory
        train_data, val_data = (
            pipeline.load_arrays(split, source, size, verbose=True) for split in splits.values()
        )
        images = {"train": len(train_data[0]), "validation": len(val_data[0])}
    if args.time_budget is None:  # the CPU's promise, or a GPU's cap (TrainConfig.for_device)
        args.time_budget = max(_BUDGET_MIN, config.time_budget_min or 0.0)
    config.time_budget_min = _fit_minutes(args.time_budget, time.perf_counter() - start)
    print(f"Training on {images['train']} images, validating on {images['validation']}.",
          file=sys.stderr)  # fmt: skip
    model, report = training.train_unet(
        config, train_data, val_data,
        callbacks=[_progress_callback(config.time_budget_min)], resume_from=args.resume,
    )  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    val_batches = val_data if args.stream else pipeline.dataset_from_arrays(*val_data)
    validation, tta = evaluate.choose_tta(model, val_batches)
    report = {
        "time_budget_min": args.time_budget or None,
        "config": asdict(config),
        "data": source.description,
        "splits": {**splits, "test": args.test_split},
        "streamed": args.stream,
        "images": images,
        "validation": validation,
        "test_time_augmentation": tta,
        "test": evaluate.score_test(model, args.test_split, source, config.batch_size, tta["kept"]),
        **report,
    }
    _write_report(report, args.out.with_suffix(".json"), start)


def print_choices(config: TrainConfig) -> None:
    """Say on stderr what the recipe chose for this machine: the arithmetic and the sides."""
    from labutils import dtype_policy, training

    features = ", ".join(
        f"{'' if has else 'no '}{name}" for name, has in dtype_policy.cpu_features().items()
    )
    sides, until = training.stage_sides(config)
    stages = "".join(f"{side}² to {end:.0%}, " for side, end in zip(sides, until, strict=True))
    print(f"Computing in {dtype_policy.choose_dtype_policy(config.precision)} (CPU: {features}); "
          f"a U-Net {config.model['base_filters']} filters wide, training at {stages}then "
          f"{config.model['image_size']}²; XLA {'on' if config.jit_compile else 'off'}.",
          file=sys.stderr)  # fmt: skip


def _check_splits(named: dict[str, str], source: object) -> None:
    """Raise a ValueError for a split that holds no photos, before any is decoded."""
    import warnings

    from labutils import data

    for role, split in named.items():
        with warnings.catch_warnings():  # a folder's gaps: load_arrays reports them once
            warnings.simplefilter("ignore", UserWarning)
            skipped = role == "test" and split.lower() == "none"
            empty = not skipped and not len(data.load_pets(split, source))
        if empty:
            raise ValueError(
                f"The {role} split {split!r} holds no images: check the slice "
                f"(e.g. 'train[:85%]') and the data folder."
            )


def _write_report(report: dict, path: Path, start: float) -> None:
    """Add the wall time since ``start``, write ``report`` as JSON and say so on stderr."""
    report["wall_seconds"] = round(time.perf_counter() - start, 1)
    path.write_text(json.dumps(report, indent=2))
    scores = f"validation mIoU {report['validation']['miou']:.3f}"
    if report.get("test"):
        scores += f", test mIoU {report['test']['miou']:.3f} ({report['test']['images']} images)"
    print(f"Saved the model and {path} in {report['wall_seconds'] / 60:.1f} minutes: {scores}",
          file=sys.stderr)  # fmt: skip
