"""``python -m labutils evaluate``: score a saved model; print one JSON object.

The object holds ``miou``, ``iou_per_class``, ``mean_dice``, ``pixel_accuracy`` and ``images``.
The scoring that ``python -m labutils train`` ends with lives here too: :func:`choose_tta` on
the validation photos, then :func:`score_test`, once.
TensorFlow is imported when the command runs, not when the parser is built.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from labutils.cli.numbers import positive_int
from labutils.vocabulary import NUM_CLASSES

if TYPE_CHECKING:
    import keras

__all__ = ["add_subcommands", "choose_tta", "score_test"]


def add_subcommands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``evaluate``; it sets ``func``, the function that runs it.

    Used in lesson 06, §2 "One confusion matrix, every score" (the scores that ``python -m
    labutils evaluate`` prints).

    Args:
        subparsers: the object returned by ``parser.add_subparsers()`` of ``python -m labutils``.
    """
    _add_evaluate(subparsers)


def _add_evaluate(subparsers: argparse._SubParsersAction) -> None:
    evaluate = subparsers.add_parser(
        "evaluate",
        help="score a saved model; prints one JSON object",
        description="Print miou, iou_per_class, mean_dice, pixel_accuracy and images as JSON.",
    )
    evaluate.add_argument("--model", required=True, type=Path, help="a .keras model file")
    evaluate.add_argument("--data", default="auto", help="dataset folder, 'tfds' or 'synthetic'")
    evaluate.add_argument("--split", default="test", help="default: test")
    evaluate.add_argument(
        "--eval-size",
        type=positive_int,
        help="compare at N×N: truth resized nearest-neighbour, predicted probabilities "
        "bilinearly (default: the model's input size)",
    )
    evaluate.add_argument(
        "--tta",
        choices=("none", "flip", "flip+scales"),  # evaluation.TTA, without importing TensorFlow
        default="none",
        help="test-time augmentation: 'flip' averages each prediction with that of the mirrored "
        "photo, 'flip+scales' that at three sides too (what 'train' keeps when validation "
        "prefers it: see test_time_augmentation in its JSON report); default: none",
    )
    evaluate.add_argument("--batch-size", type=positive_int, default=32)
    evaluate.set_defaults(func=_run_evaluate)


def _load_model(path: Path) -> keras.Model:
    """Load a .keras model for inference, or raise a one-line error."""
    if not path.is_file():
        raise FileNotFoundError(f"No model file at {path}: train one with 'python -m labutils "
                                "train --out MODEL.keras' first.")  # fmt: skip
    import keras  # only now: importing TensorFlow takes seconds

    from labutils import models  # noqa: F401 (registers FusedBatchNormalization for loading)

    try:
        model = keras.models.load_model(path, compile=False)
    except (ValueError, TypeError, OSError, zipfile.BadZipFile) as error:
        raise ValueError(
            f"{path} is not a Keras model this lab can read ({str(error).splitlines()[0]})."
        ) from None
    rgb, classes = model.input_shape[-1] == 3, model.output_shape[-1] == NUM_CLASSES
    if len(model.input_shape) != 4 or not (rgb and classes):
        raise ValueError(
            f"{path} maps {model.input_shape} to {model.output_shape}; expected a segmentation "
            f"model from (B, S, S, 3) images to (B, S, S, {NUM_CLASSES}) class probabilities."
        )
    return model


def _run_evaluate(args: argparse.Namespace) -> None:
    model = _load_model(args.model)
    from labutils import data, evaluation, pipeline

    size = model.input_shape[1]
    if size is None:
        raise ValueError(f"{args.model} has no fixed input size; this command needs one.")
    source = data.find_source(args.data, verbose=False)
    print(f"Data source: {source.description}", file=sys.stderr)
    ds = pipeline.make_dataset(
        args.split, source, size, args.batch_size, shuffle=False, cache=False,
        mask_size=args.eval_size,
    )  # fmt: skip
    result = evaluation.evaluate_model(model, ds, verbose=True, tta=args.tta)
    keys = ("miou", "iou_per_class", "mean_dice", "pixel_accuracy", "images")
    print(json.dumps({key: result[key] for key in keys}))


def choose_tta(model: keras.Model, val_batches: object) -> tuple[dict, dict]:
    """Score validation under each test-time augmentation; keep what validation prefers.

    Used by ``python -m labutils train`` before it scores the test split (:func:`score_test`).

    Returns:
        The kept way's validation scores, and ``kept`` (one of ``evaluation.TTA``) with each
        way's validation mIoU.
    """
    from labutils import evaluation

    kept, scores = evaluation.choose_tta(model, val_batches)
    miou = {tta: scores[tta]["miou"] for tta in evaluation.TTA}
    print("Validation mIoU " + ", ".join(f"{v:.3f} {k}" for k, v in miou.items())
          + f": {kept} kept.", file=sys.stderr)  # fmt: skip
    return scores[kept], {"kept": kept, "validation_miou": miou}


def score_test(
    model: keras.Model, split: str, source: object, batch_size: int, tta: str
) -> dict | None:
    """Score the chosen model once on the test split (streamed), or None for 'none'."""
    if split.lower() == "none":
        return None
    from labutils import evaluation, pipeline

    size = model.input_shape[1]
    ds = pipeline.make_dataset(split, source, size, batch_size, shuffle=False, cache=False)
    print(f"Scoring the chosen epoch once on the test split {split!r} ...", file=sys.stderr)
    return evaluation.evaluate_model(model, ds, tta=tta)
