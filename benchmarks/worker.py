"""One training configuration in a process of its own: train to a budget, then measure.

``benchmarks.run`` starts ``python -m benchmarks.worker SETTINGS.json RESULT.json`` once per
configuration, so that each peak-memory figure belongs to one configuration alone. The
worker trains, records its peak memory, measures the matmul peak and times its training step
(back to back, so both see the same machine load), and only then scores the weights it saved
after every epoch, so evaluation never runs on the training clock.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import tempfile
import time
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

from labutils import env

env.quiet_tensorflow()  # before TensorFlow starts: its C++ start-up lines, unless asked for

import keras  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks import measure  # noqa: E402
from labutils import data, evaluation, losses, pipeline, training  # noqa: E402
from labutils.models import build_unet  # noqa: E402

__all__ = ["CONFIGS", "EpochRecorder", "main", "original_model", "run_config"]

#: The configurations compared, in the order they run.
CONFIGS = ("original", "recommended")
#: The original lab's recipe: 64×64, Adam 1e-3, batch 32, sparse cross-entropy, no augmentation.
ORIGINAL = {"image_size": 64, "batch_size": 32, "learning_rate": 1e-3, "loss": "ce"}


def original_model(width_fraction: float = 1.0) -> dict[str, Any]:
    """``build_unet`` arguments of the original lab's U-Net, optionally narrower.

    Args:
        width_fraction: fraction of the original's filters (64-128-256, 512 bottleneck);
            1.0 is its exact model.

    Returns:
        A dict for ``build_unet(**original_model(...))``.

    Raises:
        ValueError: if ``width_fraction`` is not in (0, 1].
    """
    if not 0.0 < width_fraction <= 1.0:
        raise ValueError(f"width_fraction must lie in (0, 1], got {width_fraction}.")
    return {
        "image_size": ORIGINAL["image_size"],
        "base_filters": max(1, round(64 * width_fraction)),
        "depth": 3,
    }


class EpochRecorder(keras.callbacks.Callback):
    """Keep a training clock, save the weights after every epoch, stop when the budget is spent.

    The clock leaves out Keras's validation passes (``on_test_begin`` … ``on_test_end``) and
    the saving of weights. After ``fit``, ``snapshots`` lists one dict per epoch (the last
    one possibly partial): ``epoch``, ``steps`` (in all), ``seconds`` (training clock),
    ``image_size`` (the side the epoch trained at: ``training.ProgressiveResize`` logs it,
    else the model's) and ``path``.

    Args:
        budget_s: seconds of training clock after which training stops (after the step).
        folder: where to save ``epochNNNN.weights.h5``.
        name: the configuration's name, for the progress lines on stderr.
    """

    def __init__(self, budget_s: float, folder: Path, name: str) -> None:
        super().__init__()
        self.budget_s, self.folder, self.name = budget_s, Path(folder), name
        self.snapshots: list[dict[str, Any]] = []
        self.steps = 0
        self._start = self._paused = self._excluded = 0.0

    def clock(self) -> float:
        """Seconds of training so far, evaluation and saving excluded."""
        return time.perf_counter() - self._start - self._excluded

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._start, self._excluded = time.perf_counter(), 0.0

    def on_test_begin(self, logs: dict | None = None) -> None:
        self._paused = time.perf_counter()

    def on_test_end(self, logs: dict | None = None) -> None:
        self._excluded += time.perf_counter() - self._paused

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.steps += 1
        if self.clock() >= self.budget_s:
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        paused, seconds = time.perf_counter(), self.clock()
        path = self.folder / f"epoch{epoch + 1:04d}.weights.h5"
        self.model.save_weights(path)
        size = (logs or {}).get("image_size", self.model.input_shape[1])
        self.snapshots.append({"epoch": epoch + 1, "steps": self.steps, "seconds": seconds,
                               "image_size": int(size), "path": str(path)})  # fmt: skip
        print(f"  {self.name}: epoch {epoch + 1}, {seconds / 60:.2f} of "
              f"{self.budget_s / 60:.2f} min", file=sys.stderr, flush=True)  # fmt: skip
        self._excluded += time.perf_counter() - paused


def _train_original(
    settings: dict, source: data.DataSource, recorder: EpochRecorder
) -> tuple[keras.Model, dict, Any]:
    """Fit the original recipe until the recorder's budget is spent."""
    model_args = original_model(settings["width_fraction"])
    train_arrays = pipeline.load_arrays(settings["train_split"], source, model_args["image_size"])
    keras.utils.set_random_seed(settings["seed"])
    model = build_unet(**model_args)  # float32, as the original
    losses.compile_model(model, ORIGINAL["learning_rate"], ORIGINAL["loss"])
    train_ds = pipeline.dataset_from_arrays(*train_arrays, ORIGINAL["batch_size"], shuffle=True)
    model.fit(train_ds, epochs=10**6, callbacks=[recorder], verbose=0, shuffle=False)
    recipe = {**ORIGINAL, "model": model_args, "augment": False, "shuffle": True,
              "width_fraction": settings["width_fraction"], "dtype_policy": "float32"}  # fmt: skip
    return model, recipe, (train_ds, len(train_arrays[0]))


def _train_recommended(
    settings: dict, source: data.DataSource, recorder: EpochRecorder
) -> tuple[keras.Model, dict, Any]:
    """Fit ``training.train_unet`` with the lab's ``TrainConfig`` and the benchmark's budget."""
    config = training.TrainConfig.for_device("cpu", seed=settings["seed"])  # as `labutils train`
    config.time_budget_min = settings["budget_minutes"]
    size = config.model["image_size"]
    train_arrays = pipeline.load_arrays(settings["train_split"], source, size)
    val_arrays = pipeline.load_arrays(settings["val_split"], source, size)
    model, report = training.train_unet(config, train_arrays, val_arrays, callbacks=[recorder])
    recipe = {**asdict(config), "dtype_policy": report["dtype_policy"],
              "stage_sides": training.stage_sides(config)}  # fmt: skip
    train_ds = pipeline.dataset_from_arrays(
        *train_arrays, config.batch_size, config.augment, shuffle=True
    )
    return model, recipe, (train_ds, len(train_arrays[0]))


def _measure_step(model: keras.Model, train_ds: Any, settings: dict) -> tuple[dict, dict]:
    """The matmul peaks, then the training step's throughput, back to back (same load)."""
    peak = {
        dtype: measure.measure_matmul_peak(settings["matmul_size"], dtype,
                                           settings["timing_repeats"] + 2,
                                           settings["matmul_sample_s"])
        for dtype in (("float32",) if settings.get("as_avx2") else ("float32", "bfloat16"))
    }  # fmt: skip  # capped at AVX2, TensorFlow's bfloat16 matmul crashes (exit -11) on AVX-512
    images, masks = next(iter(train_ds))
    throughput = measure.measure_train_throughput(
        model, images, masks, settings["timing_repeats"], settings["min_sample_s"]
    )
    return peak, throughput


@functools.lru_cache(maxsize=4)
def _eval_set(split: str, source: str, size: int, eval_size: int) -> Any:
    """Batches of ``split``: images at ``size``², masks at ``eval_size``² (built once)."""
    return pipeline.make_dataset(split, source, size, 32, shuffle=False, mask_size=eval_size)


def _eval_batches(model: keras.Model, split: str, settings: dict) -> Any:
    """:func:`_eval_set` of ``split`` at the model's own side."""
    return _eval_set(split, settings["data"], model.input_shape[1], settings["eval_size"])


def _score_snapshots(model: keras.Model, snapshots: list[dict], settings: dict) -> dict:
    """Score every snapshot on validation, then the one validation chose, once, on test.

    Images are at the model's own side (64² for the original, 128² for the recommended
    configuration, whose half-side epochs also validated at full size); every prediction is
    compared with the truth at ``eval_size``². Adds ``miou`` and ``iou_per_class``
    (validation) to every snapshot.

    The chosen epoch's test-time augmentation (``evaluation.choose_tta``: none, flip, or flip
    at three sides) is the one that scores best on validation, the rule of ``python -m
    labutils train``.

    Returns:
        ``images`` (validation and test counts) and ``test``: the chosen ``epoch``,
        ``test_time_augmentation`` (``kept``, and each way's validation mIoU for the chosen
        epoch) and its test ``miou`` and ``iou_per_class``.
    """
    val = _eval_batches(model, settings["val_split"], settings)
    for snapshot in snapshots:
        model.load_weights(snapshot["path"])
        scores = evaluation.evaluate_model(model, val)
        snapshot["miou"], snapshot["iou_per_class"] = scores["miou"], scores["iou_per_class"]
    chosen = max(snapshots, key=lambda snapshot: snapshot["miou"])
    model.load_weights(chosen["path"])
    tta, val_scores = evaluation.choose_tta(model, val)
    test_set = _eval_batches(model, settings["test_split"], settings)
    test = evaluation.evaluate_model(model, test_set, tta=tta)
    for snapshot in snapshots:
        del snapshot["path"]
    return {
        "images": {"validation": scores["images"], "test": test["images"]},
        "test": {
            "epoch": chosen["epoch"],
            "test_time_augmentation": {
                "kept": tta,
                "validation_miou": {k: v["miou"] for k, v in val_scores.items()},
            },
            "miou": test["miou"],
            "iou_per_class": test["iou_per_class"],
        },  # fmt: skip
    }


def run_config(name: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Train one configuration to the time budget, then measure and score it.

    Args:
        name: ``"original"`` or ``"recommended"``.
        settings: ``data``, ``train_split``, ``val_split``, ``test_split``, ``eval_size``,
            ``budget_minutes``,
            ``width_fraction``, ``seed``, ``timing_repeats``, ``min_sample_s`` (throughput
            timing), ``matmul_size`` and ``matmul_sample_s`` (the peak).

    Returns:
        ``recipe``, ``params``, ``images`` (train, validation, test), ``epochs`` (per epoch:
        steps, training seconds, image side, validation mIoU and per-class IoU), ``test``
        (the epoch with the best validation mIoU, scored once on the test split),
        ``train_seconds``,
        ``peak_rss_mib`` (at the end of training), ``flops``, ``peak`` (float32 and bfloat16
        matmul GFLOP/s, measured just before the throughput) and ``throughput``.

    Raises:
        ValueError: an unknown configuration name.
    """
    trainers = {"original": _train_original, "recommended": _train_recommended}
    if name not in trainers:
        raise ValueError(f"configuration must be one of {CONFIGS}, got {name!r}.")
    source = data.find_source(settings["data"], verbose=False)
    with tempfile.TemporaryDirectory(prefix="seglab-bench-") as folder:
        recorder = EpochRecorder(60.0 * settings["budget_minutes"], Path(folder), name)
        model, recipe, (train_ds, train_images) = trainers[name](settings, source, recorder)
        peak_rss = measure.peak_rss_mib()
        peak, throughput = _measure_step(model, train_ds, settings)
        scored = _score_snapshots(model, recorder.snapshots, settings)
    return {
        "name": name,
        "recipe": recipe,
        "params": model.count_params(),
        "images": {"train": train_images, **scored["images"]},
        "epochs": recorder.snapshots,
        "test": scored["test"],
        "train_seconds": recorder.snapshots[-1]["seconds"],
        "peak_rss_mib": round(peak_rss, 1),
        "flops": measure.count_flops(model),
        "peak": peak,
        "throughput": throughput,
    }


def main(argv: list[str] | None = None) -> int:
    """Run one configuration: ``python -m benchmarks.worker NAME SETTINGS.json RESULT.json``.

    Args:
        argv: the arguments (``None``: ``sys.argv[1:]``).

    Returns:
        The exit code, 0 on success.
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks.worker")
    parser.add_argument("name", choices=CONFIGS)
    parser.add_argument("settings", type=Path, help="JSON file of run_config's settings")
    parser.add_argument("result", type=Path, help="where to write the result as JSON")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", "Oxford-IIIT Pet folder", UserWarning)  # images it skips
    result = run_config(args.name, json.loads(args.settings.read_text()))
    args.result.write_text(json.dumps(result, indent=2, default=_to_json))
    return 0


def _to_json(value: Any) -> Any:
    """JSON for NumPy scalars."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


if __name__ == "__main__":
    sys.exit(main())
