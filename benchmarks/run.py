"""Benchmark the lab against the original lab's recipe and against the machine's own peak.

``python -m benchmarks.run`` (or ``python benchmarks/run.py``) measures, in one run:

1. time to quality: the original recipe and the lab's recommended configuration, each
   trained for the same budget of training time, scored on the validation photos (carved
   from the training photos) after every epoch; the epoch validation chooses is then scored
   once on the test photos;
2. training throughput, and the FLOP/s of a training step as a fraction of a matmul peak;
3. input pipeline throughput against what training consumes;
4. peak memory of each training process (each configuration runs in its own process);
5. optionally (``--ci-suite``) the wall time of the whole ``pytest`` suite.

It prints a table and writes everything as JSON (``--json``). ``--quick`` is a smoke run (a
few minutes on a 2-core CPU). No time is asserted anywhere: numbers go in the output.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(ROOT))

from labutils import env  # noqa: E402

_QUIETED = env.quiet_tensorflow()  # no C++ start-up lines, unless TF_CPP_MIN_LOG_LEVEL is set

from benchmarks import measure, report  # noqa: E402
from labutils import data, splits, training  # noqa: E402

__all__ = [
    "build_parser",
    "main",
    "original_name",
    "run_benchmarks",
    "summarize_time_to_quality",
    "time_ci_suite",
]

#: Settings of a full run, and of ``--quick``; command-line flags override them.
FULL = {
    "data": "../shared/data/oxford-iiit-pet",
    "budget_minutes": None,  # the lab's own CPU budget, TrainConfig().time_budget_min
    "train_split": splits.TRAIN_SPLIT,
    "val_split": splits.VAL_SPLIT,
    "test_split": splits.TEST_SPLIT,
    "pipeline_split": "train[:256]",
    "matmul_size": 4096,
    "matmul_sample_s": 0.5,
    "min_sample_s": 2.0,
    "width_fraction": [1.0, 0.25],
    "timing_repeats": 5,
}
#: The smoke run proves that every stage runs and every section is written, not any number:
#: one original (¼ width), a few seconds of training, the smallest timings.
QUICK = {
    "data": "synthetic",
    "budget_minutes": 0.05,
    "train_split": "train[:32]",
    "val_split": "train[-8:]",
    "test_split": "test[:8]",
    "pipeline_split": "train[:8]",
    "matmul_size": 256,
    "matmul_sample_s": 0.02,
    "min_sample_s": 0.05,
    "width_fraction": [0.25],
    "timing_repeats": 2,
}
#: Goals of issue 5.
GOALS = {"time_ratio": 0.25, "miou_gap": 0.10, "fraction_of_peak": 0.40,
         "pipeline_ratio": 5.0, "memory_mib": 2048, "ci_minutes": 10.0}  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """Return the command line's parser (defaults of ``None`` come from FULL or QUICK)."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.split("\n")[0]
    )
    add = parser.add_argument
    add("--quick", action="store_true", help="smoke run: synthetic data, tiny budget")
    add("--data", help=f"folder path, 'synthetic' or 'tfds' (default {FULL['data']})")
    add("--budget-minutes", type=float,
        help="training minutes per configuration (default: the lab's TrainConfig budget, or 15 "
             "if it has none)")  # fmt: skip
    add("--width-fraction", type=float, nargs="+",
        help="widths of the original U-Net to train, as fractions of its filters (default: 1, "
             "the exact model, and 0.25, which a 13-minute CPU budget trains many times as "
             "many epochs and so is the stronger baseline)")  # fmt: skip
    add("--eval-size", type=int, default=128, help="score masks at N×N (default 128)")
    add("--train-split", help=f"training split (default {splits.TRAIN_SPLIT!r})")
    add("--val-split", help="validation split, scored after every epoch; it chooses the epoch "
        f"(default {splits.VAL_SPLIT!r}, carved from the training photos)")  # fmt: skip
    add("--test-split", help="scored once per run, by the epoch validation chose "
        f"(default {splits.TEST_SPLIT!r})")  # fmt: skip
    add("--pipeline-split", help="split timed by the pipeline benchmark (default 'train[:256]')")
    add("--matmul-size", type=int, help="side of the peak-FLOP/s matmul (default 4096)")
    add("--repeats", type=int, default=1, help="training runs per configuration (default 1)")
    add("--timing-repeats", type=int, help="samples per cheap timing (default 5; --quick: 2)")
    add("--seed", type=int, default=42)
    add("--json", type=Path, default=ROOT / "_build" / "benchmarks.json", help="JSON output")
    add("--ci-suite", action="store_true", help="also time the whole pytest suite (long)")
    add(
        "--as-avx2",
        action="store_true",
        help="train as a CPU with AVX2 and no bfloat16 units would (most laptops): caps "
        "TensorFlow's oneDNN kernels and XLA at AVX2 (ONEDNN_MAX_CPU_ISA, XLA_FLAGS)",
    )
    return parser


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """The run's settings: FULL or QUICK, overridden by the flags given."""
    settings = dict(QUICK if args.quick else FULL)
    for key in settings:
        if getattr(args, key, None) is not None:
            settings[key] = getattr(args, key)
    for key in ("eval_size", "repeats", "seed", "quick", "as_avx2"):
        settings[key] = getattr(args, key)
    if settings["budget_minutes"] is None:
        settings["budget_minutes"] = training.TrainConfig().time_budget_min or 15.0
    if settings["repeats"] < 1 or settings["timing_repeats"] < 1 or settings["eval_size"] < 1:
        raise ValueError("--repeats, --timing-repeats and --eval-size must be at least 1.")
    if not all(0 < width <= 1 for width in settings["width_fraction"]):
        raise ValueError(f"--width-fraction values must lie in (0, 1], got "
                         f"{' '.join(map(str, settings['width_fraction']))}.")  # fmt: skip
    if settings["budget_minutes"] <= 0:
        raise ValueError(f"--budget-minutes must be positive, got {settings['budget_minutes']}.")
    return settings


def original_name(width_fraction: float) -> str:
    """The name of the original recipe's run at ``width_fraction`` of its width."""
    return f"original x{width_fraction:g}"


def _run_worker(name: str, config: str, settings: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Run the worker's ``config`` ("original" or "recommended") in its own Python process."""
    settings_path = folder / "settings.json"
    result_path = folder / f"{name.replace(' ', '_')}.json"
    settings_path.write_text(json.dumps(settings))
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    worker_env = {**os.environ, "PYTHONPATH": path}
    if _QUIETED:  # the variable is ours, not the user's: the worker silences its own start-up
        worker_env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    command = [sys.executable, "-m", "benchmarks.worker", config, str(settings_path)]
    completed = subprocess.run([*command, str(result_path)], cwd=ROOT, env=worker_env,
                               check=False)  # fmt: skip
    if completed.returncode != 0:
        raise RuntimeError(f"the {name} run failed (exit code {completed.returncode}), see above.")
    return json.loads(result_path.read_text())


def _first_reaching(epochs: list[dict], target: float) -> float | None:
    """Training seconds at the first epoch whose mIoU reaches ``target`` (None: never)."""
    return next((e["seconds"] for e in epochs if e["miou"] >= target - 1e-12), None)


def _median_or_none(values: list[float | None]) -> float | None:
    """Median, counting None (never reached) as infinitely late; None if that is the median."""
    middle = statistics.median(float("inf") if v is None else v for v in values)
    return None if middle == float("inf") else middle


def summarize_time_to_quality(runs: dict[str, list[dict]], settings: dict) -> dict[str, Any]:
    """Compare the recommended configuration with each original run over the training clock.

    For each configuration: its best validation mIoU within the budget (median over repeats),
    the test mIoU of the epoch validation chose, epochs and training time. For each original:
    its best validation mIoU is the target; the training seconds at which it and the
    recommended configuration first reach it, their ratio (recommended / original) and the
    gap between the best validation mIoUs (recommended − original).

    Args:
        runs: ``{"original x1": [worker results], ..., "recommended": [...]}``.
        settings: the run's settings (budget, eval size, repeats).

    Returns:
        A JSON-ready dict: ``configs`` (name → ``best_miou`` on validation, ``test_miou``,
        ``epochs``, ``train_seconds``),
        ``originals`` (name → ``target_miou``, ``seconds_to_target``,
        ``recommended_seconds_to_target``, ``time_ratio``, ``miou_gap``; None where the
        target is never reached) and the settings.
    """
    configs = {
        name: {
            "best_miou": statistics.median(max(e["miou"] for e in r["epochs"]) for r in results),
            "epochs": statistics.median(len(r["epochs"]) for r in results),
            "train_seconds": statistics.median(r["train_seconds"] for r in results),
            "test_miou": statistics.median(r["test"]["miou"] for r in results),
        }
        for name, results in runs.items()
    }

    def seconds_to(name: str, target: float) -> float | None:
        return _median_or_none([_first_reaching(r["epochs"], target) for r in runs[name]])

    originals = {}
    for name in runs:
        if name == "recommended":
            continue
        target = configs[name]["best_miou"]
        own, ours = seconds_to(name, target), seconds_to("recommended", target)
        originals[name] = {
            "target_miou": target,
            "seconds_to_target": own,
            "recommended_seconds_to_target": ours,
            "time_ratio": None if own is None or ours is None else ours / own,
            "miou_gap": configs["recommended"]["best_miou"] - target,
        }
    summary = {"configs": configs, "originals": originals}
    for key in ("budget_minutes", "eval_size", "repeats"):
        summary[key] = settings[key]
    return summary


def _summarize_throughput(runs: dict[str, list[dict]]) -> dict[str, Any]:
    """Images/s and FLOP/s of each configuration's training step, against its process's peaks.

    Medians over repeated runs; each run's fraction of peak uses the peak measured in that run.
    """
    summary = {}
    for name, results in runs.items():
        first = results[0]
        policy = first["recipe"]["dtype_policy"]
        own = "bfloat16" if "bfloat16" in policy else "float32"
        gflops = [r["flops"]["train"] * r["throughput"]["images_per_s"]["median"] / 1e9
                  for r in results]  # fmt: skip
        summary[name] = {
            "images_per_s": statistics.median(
                r["throughput"]["images_per_s"]["median"] for r in results
            ),
            "train_gflop_per_image": first["flops"]["train"] / 1e9,
            "gflops": statistics.median(gflops),
            "dtype_policy": policy,
            "fraction_of_float32_peak": _median_fraction(gflops, results, "float32"),
            "fraction_of_own_dtype_peak": _median_fraction(gflops, results, own),
            "params": first["params"],
            "batch_size": first["throughput"]["batch_size"],
            "timing_repeats": first["throughput"]["images_per_s"]["repeats"],
        }
    return summary


def _median_fraction(gflops: list[float], results: list[dict], dtype: str) -> float:
    """Median over runs of GFLOP/s divided by the run's own matmul peak in ``dtype``."""
    peaks = [r["peak"][dtype]["gflops"]["median"] for r in results]
    return statistics.median(g / p for g, p in zip(gflops, peaks, strict=True))


def time_ci_suite(source: data.DataSource, pytest_args: tuple[str, ...] = ()) -> dict[str, Any]:
    """Run pytest once from the checkout's root, as CI does (``.ci/run``), and time it.

    Args:
        source: the data source the notebooks use (passed on as ``SEGLAB_DATA``).
        pytest_args: arguments for pytest; none runs the whole suite.

    Returns:
        ``{"seconds", "exit_code", "summary"}``, the summary being pytest's last line.
    """
    seglab_data = str(source.path) if source.kind == "folder" else source.kind
    env = {**os.environ, "SEGLAB_DATA": seglab_data, "MPLBACKEND": "Agg",
           "TF_CPP_MIN_LOG_LEVEL": "2"}  # fmt: skip
    command = [sys.executable, "-m", "pytest", "-q", *pytest_args]
    start = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    return {"seconds": seconds, "exit_code": completed.returncode,
            "summary": lines[-1] if lines else ""}  # fmt: skip


def _memory(runs: dict[str, list[dict]], source: data.DataSource, size: int) -> dict[str, Any]:
    """Peak memory of each training process, and what the full dataset would take."""
    peaks = {name: max(r["peak_rss_mib"] for r in results) for name, results in runs.items()}
    return {"peak_rss_mib": peaks, "full_dataset": measure.estimate_dataset_memory(source, size)}


def _train_all(settings: dict[str, Any]) -> dict[str, list[dict]]:
    """Train each configuration ``repeats`` times, one process per run, one after another."""
    configs = {original_name(w): ("original", w) for w in settings["width_fraction"]}
    configs["recommended"] = ("recommended", None)
    runs: dict[str, list[dict]] = {name: [] for name in configs}
    with tempfile.TemporaryDirectory(prefix="seglab-bench-") as folder:
        for repeat in range(settings["repeats"]):
            for name, (config, width) in configs.items():
                _say(f"Training {name} ({repeat + 1}/{settings['repeats']}) for "
                     f"{settings['budget_minutes']:g} min ...")  # fmt: skip
                worker_settings = {**settings, "seed": settings["seed"] + repeat,
                                   "width_fraction": width}  # fmt: skip
                runs[name].append(_run_worker(name, config, worker_settings, Path(folder)))
    return runs


def _compare_pipeline(pipeline: dict[str, Any], consumed: float) -> None:
    """Add to the pipeline's results what training consumes and each route's ratio to it."""
    pipeline["consumed_images_per_s"] = consumed
    pipeline["ratio"] = {
        route: pipeline[route]["images_per_s"]["median"] / consumed
        for route in ("files", "tf_data_cache", "arrays")
    }


def run_benchmarks(settings: dict[str, Any]) -> dict[str, Any]:
    """Run every measurement and return the results (what ``--json`` writes).

    Args:
        settings: from the command line (see ``build_parser``).

    Returns:
        ``date`` (of the start), ``machine``, ``settings``, ``pipeline``, ``runs`` (each
        worker's result), ``time_to_quality``, ``peak`` (the first run's matmul peaks, by
        configuration), ``throughput``, ``memory``, ``ci_suite`` (None unless asked for),
        ``goals`` and ``wall_minutes`` (the whole run's).

    Raises:
        FileNotFoundError: the data folder does not exist or is not in the official layout.
        RuntimeError: a training process failed.
    """
    source = data.find_source(settings["data"], verbose=False)
    recommended = training.TrainConfig()
    size, batch = recommended.model["image_size"], recommended.batch_size
    repeats, min_s = settings["timing_repeats"], settings["min_sample_s"]
    start = time.perf_counter()
    results: dict[str, Any] = {"date": time.strftime("%Y-%m-%d"), "machine":
                               measure.describe_machine(), "settings": settings,
                               "data_source": source.description}  # fmt: skip
    _say(f"Data: {source.description}")
    _say("Measuring the input pipeline ...")
    results["pipeline"] = measure.measure_pipeline(
        source, settings["pipeline_split"], size, batch, repeats, min_s / 2
    )
    runs = _train_all(settings)
    results["runs"] = runs
    results["time_to_quality"] = summarize_time_to_quality(runs, settings)
    results["peak"] = {name: results[0]["peak"] for name, results in runs.items()}
    results["throughput"] = _summarize_throughput(runs)
    _compare_pipeline(results["pipeline"], results["throughput"]["recommended"]["images_per_s"])
    results["memory"] = _memory(runs, source, size)
    results["ci_suite"] = None
    if settings["ci_suite"]:
        _say("Timing the whole pytest suite ...")
        results["ci_suite"] = time_ci_suite(source)
    results["goals"] = GOALS
    results["wall_minutes"] = round((time.perf_counter() - start) / 60, 1)
    return results


def _say(message: str) -> None:
    """Progress on stderr (stdout carries the table)."""
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks, print the table, write the JSON.

    Args:
        argv: the arguments (``None``: ``sys.argv[1:]``).

    Returns:
        The exit code: 0 on success, 1 on a reported error.
    """
    args = build_parser().parse_args(argv)
    warnings.filterwarnings("ignore", "Oxford-IIIT Pet folder", UserWarning)  # images it skips
    if args.as_avx2:  # inherited by the training processes, read by dtype_policy.cpu_features
        os.environ["ONEDNN_MAX_CPU_ISA"] = "AVX2"
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_cpu_max_isa=AVX2"
    try:
        settings = {**_settings(args), "ci_suite": args.ci_suite}
        results = run_benchmarks(settings)
    except (ValueError, FileNotFoundError, RuntimeError) as error:
        print("error: " + " ".join(str(error).split()), file=sys.stderr)
        return 1
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
    print(report.format_report(results))
    _say(f"Wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
