"""The benchmark's table: the results of ``benchmarks.run`` as text for people."""

from __future__ import annotations

from typing import Any

__all__ = ["format_report", "minutes", "verdict"]

_ROUTES = {
    "files": "files (make_dataset, cache=False)",
    "tf_data_cache": "tf.data cache (make_dataset, 2nd+ pass)",
    "arrays": "arrays (load_arrays + dataset_from_arrays)",
}


def format_report(results: dict[str, Any]) -> str:
    """Format the results of ``run_benchmarks`` as the five sections of issue 5.

    Args:
        results: what ``benchmarks.run.run_benchmarks`` returns.

    Returns:
        Plain text, one section per measurement, each with its goal and whether it is met.
    """
    sections = (_machine, _time_to_quality, _throughput, _pipeline, _memory, _ci_suite)
    return "\n\n".join(section(results) for section in sections)


def verdict(value: float | None, goal: float, at_most: bool) -> str:
    """'met' or 'missed' for a value against a goal; 'not measurable' for None.

    >>> verdict(0.3, 0.25, at_most=True), verdict(6.1, 5, at_most=False), verdict(None, 5, False)
    ('missed', 'met', 'not measurable')
    """
    if value is None:
        return "not measurable"
    return "met" if (value <= goal if at_most else value >= goal) else "missed"


def _table(header: list[str], rows: list[list[str]]) -> str:
    """Left-aligned first column, right-aligned others, two spaces apart."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        )
        for row in [header, *rows]
    ]
    return "\n".join(lines)


def _machine(results: dict) -> str:
    m, s = results["machine"], results["settings"]
    gpu = ", ".join(m["gpus"]) if m["gpus"] else "no GPU"
    tf32 = " (float32 matmuls run as TF32)" if m["tf32_matmuls"] else ""
    peaks = "; ".join(
        f"{name} " + " / ".join(f"{p[d]['gflops']['median']:,.0f} {d}" for d in p)
        for name, p in results["peak"].items()
    )
    first = next(iter(results["peak"].values()))["float32"]
    return (
        f"Machine: {m['cpu']}, {m['cores']} cores ({m['cores_usable']} usable), "
        f"{m['memory_gib']} GiB, {gpu}{tf32}; CPU bfloat16 units: "
        f"{'yes' if m['cpu_features']['bfloat16'] else 'no'} (AVX-512 "
        f"{'yes' if m['cpu_features']['avx512'] else 'no'}, AVX2 "
        f"{'yes' if m['cpu_features']['avx2'] else 'no'}); "
        f"load average {m['load_average_1min']} at start\n"
        f"Software: Python {m['python']}, TensorFlow {m['tensorflow']}, Keras {m['keras']}\n"
        f"Data: {results['data_source'].split('. ')[0]}{' (--quick)' if s['quick'] else ''}\n"
        f"Peak GFLOP/s (median of {first['gflops']['repeats']} samples of "
        f"{first['size']}² tf.linalg.matmul, in each training process just before its "
        f"throughput): {peaks}"
    )


def _describe_model(recipe: dict) -> str:
    model = recipe["model"]
    width = f" ×{recipe['width_fraction']:g} width" if "width_fraction" in recipe else ""
    batch_norm = ", BN" if model.get("batch_norm") else ""
    stages = stages_text(recipe)
    start = f" ({stages})" if stages else ""
    return (
        f"{model['image_size']}²{start}, {model['base_filters']} filters{width}, depth "
        f"{model.get('depth', 3)}{batch_norm}, {recipe['dtype_policy']}"
    )


def stages_text(recipe: dict) -> str:
    """The small-image stages of a recipe, e.g. "64² to 50 %, 96² to 80 %" ("" if none).

    >>> stages_text({"stage_sides": [[64, 96], [0.5, 0.8]]})
    '64² to 50 %, 96² to 80 %'
    """
    sides, until = recipe.get("stage_sides") or ([], [])
    return ", ".join(
        f"{side}² to {end:.0%}".replace("%", " %") for side, end in zip(sides, until, strict=True)
    )


def cpu_features_text(machine: dict) -> str:
    """The CPU features that decide its training speed, e.g. ", AVX2, no AVX-512, no bfloat16".

    >>> cpu_features_text({"cpu_features": {"bfloat16": False, "avx512": False, "avx2": True}})
    ', AVX2, no AVX-512, no bfloat16 units'
    """
    names = {"avx2": "AVX2", "avx512": "AVX-512", "bfloat16": "bfloat16 units"}
    features = machine["cpu_features"]
    return "".join(f", {'' if features[key] else 'no '}{name}" for key, name in names.items())


def minutes(seconds: float | None) -> str:
    """Seconds as minutes with two decimals, or "never" (also for README's table)."""
    return "never" if seconds is None else f"{seconds / 60:.2f}"


def _time_to_quality(results: dict) -> str:
    q, runs, goals = results["time_to_quality"], results["runs"], results["goals"]
    rows = []
    for name, row in q["configs"].items():
        run = runs[name][0]
        to_best = next(e["seconds"] for e in run["epochs"] if e["miou"] >= row["best_miou"])
        rows.append([name, _describe_model(run["recipe"]), f"{row['epochs']:g}",
                     minutes(row["train_seconds"]), f"{row['best_miou']:.3f}",
                     minutes(to_best), f"{row['test_miou']:.3f}"])  # fmt: skip
    header = ["config", "model", "epochs", "train min", "best val mIoU", "min to best",
              "test mIoU"]  # fmt: skip
    images = runs["recommended"][0]["images"]
    lines = [
        f"1. Time to quality: {q['budget_minutes']:g} min of training each (median of "
        f"{q['repeats']} run(s)). The clock counts training only: the weights saved after every "
        f"epoch are scored afterwards on the validation photos, at the model's own side "
        f"(labutils.metrics mIoU at {q['eval_size']}×{q['eval_size']}; {images['train']} "
        f"training, {images['validation']} validation images, carved from the training photos). "
        f"The epoch with the best validation mIoU is then scored once on {images['test']} test "
        f"images (test mIoU), with the test-time augmentation (none, flip, or flip at three "
        f"sides) that scored best on validation; nothing is chosen on them.",
        _table(header, rows),
    ]
    for name, o in q["originals"].items():
        ratio = "n/a (not reached)" if o["time_ratio"] is None else f"{o['time_ratio']:.2f}"
        ours = o["recommended_seconds_to_target"]
        reached = "never reaches it" if ours is None else f"reaches it at {minutes(ours)} min"
        time_goal, gap_goal = goals["time_ratio"], goals["miou_gap"]
        lines.append(
            f"Against {name} (its best {o['target_miou']:.3f} at "
            f"{minutes(o['seconds_to_target'])} min): recommended {reached}, time ratio "
            f"{ratio} (goal <= {time_goal}: {verdict(o['time_ratio'], time_goal, True)}); "
            f"mIoU gap {o['miou_gap']:+.3f} (goal >= +{gap_goal}: "
            f"{verdict(o['miou_gap'], gap_goal, False)})"
        )
    return "\n".join(lines)


def _throughput(results: dict) -> str:
    rows = []
    for name, t in results["throughput"].items():
        rows.append([name, f"{t['params']:,}", str(t["batch_size"]), t["dtype_policy"],
                     f"{t['images_per_s']:,.1f}", f"{t['train_gflop_per_image']:.2f}",
                     f"{t['gflops']:,.1f}", f"{t['fraction_of_float32_peak']:.0%}",
                     f"{t['fraction_of_own_dtype_peak']:.0%}"])  # fmt: skip
    header = ["config", "params", "batch", "dtype", "images/s", "GFLOP/img", "GFLOP/s",
              "of f32 peak", "of own-dtype peak"]  # fmt: skip
    fraction = results["throughput"]["recommended"]["fraction_of_float32_peak"]
    samples = results["throughput"]["recommended"]["timing_repeats"]
    goal = results["goals"]["fraction_of_peak"]
    return (
        f"2. Training throughput: median of {samples} timed samples of training steps on one "
        "batch held in memory (no input pipeline). FLOPs per image counted from the "
        "convolutions (2·K²·Cin·Cout·H·W forward; a training step adds as much for the weight "
        "gradients and again for the input gradients, except in the first convolution).\n"
        + _table(header, rows)
        + f"\nRecommended step vs the float32 matmul peak: {fraction:.0%}; goal >= {goal:.0%}: "
        f"{verdict(fraction, goal, at_most=False)}"
    )


def _pipeline(results: dict) -> str:
    p, goal = results["pipeline"], results["goals"]["pipeline_ratio"]
    rows = [
        [label, f"{p[route]['images_per_s']['median']:,.1f}", f"{p['ratio'][route]:.1f}×",
         verdict(p["ratio"][route], goal, at_most=False)]
        for route, label in _ROUTES.items()
    ]  # fmt: skip
    decode = p["arrays"]["decode_once"]["median"]
    return (
        f"3. Input pipeline: decoded, resized ({p['image_size']}²) and augmented batches of "
        f"{p['batch_size']} from {p['split']!r}, median of "
        f"{p['files']['images_per_s']['repeats']} passes, against the recommended training "
        f"step's {p['consumed_images_per_s']:,.1f} images/s (goal: >= {goal:g}×).\n"
        + _table(["route", "images/s", "× training", "goal"], rows)
        + f"\nDecoding once (load_arrays): {decode:,.1f} images/s. The lab trains from the "
        "arrays route (training.train_unet)."
    )


def _memory(results: dict) -> str:
    from labutils.pipeline import SHUFFLE_BUFFER  # only here: labutils.pipeline loads TensorFlow

    memory, goal = results["memory"], results["goals"]["memory_mib"]
    peaks = memory["peak_rss_mib"]
    full = memory["full_dataset"]
    per_example = full["bytes_per_example"]["prepared"] / 2**10
    return (
        "4. Peak memory (ru_maxrss of each training process, at the end of training): "
        + "; ".join(f"{name} {mib:,.0f} MiB" for name, mib in peaks.items())
        + f". Goal: the CPU default (recommended) <= {goal:,} MiB: "
        f"{verdict(peaks['recommended'], goal, at_most=True)}.\n"
        f"Full dataset ({full['official_images']:,} official images at "
        f"{results['pipeline']['image_size']}²): the default route (load_arrays, decode once) "
        f"keeps every image decoded as uint8 in memory, {full['full_dataset_mib']['arrays']:,.0f}"
        " MiB, which fits a 12 GiB machine. `python -m labutils train --stream` (train_unet on "
        "make_dataset(cache=False)) streams from the files instead, holding only its shuffle "
        f"buffer of {SHUFFLE_BUFFER:,} prepared examples ({per_example:,.0f} KiB each, "
        f"{SHUFFLE_BUFFER * per_example / 2**10:,.0f} MiB); with cache=True it would keep "
        f"{full['full_dataset_mib']['tf_data_cache']:,.0f} MiB of float32 images and int32 masks."
    )


def _ci_suite(results: dict) -> str:
    ci, goal = results["ci_suite"], results["goals"]["ci_minutes"]
    if ci is None:
        return "5. CI suite: not timed (pass --ci-suite to run the whole pytest suite)."
    minutes = ci["seconds"] / 60
    return (
        f"5. CI suite: pytest took {minutes:.1f} min, exit code {ci['exit_code']} "
        f"({ci['summary']}); goal <= {goal:g} min: {verdict(minutes, goal, at_most=True)}"
    )
