"""The measurements behind ``benchmarks.run``: the machine, its peak, FLOPs, throughputs, memory.

Every timing is repeated and summarised by its median (:func:`summarize`); nothing here
asserts a time.
"""

from __future__ import annotations

import math
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from labutils import pipeline
from labutils.data import DataSource
from labutils.dtype_policy import cpu_features

__all__ = [
    "count_flops",
    "describe_machine",
    "estimate_dataset_memory",
    "measure_matmul_peak",
    "measure_pipeline",
    "measure_train_throughput",
    "peak_rss_mib",
    "summarize",
]

#: Images in the official Oxford-IIIT Pet splits (TFDS ``oxford_iiit_pet`` 4.0.0).
OFFICIAL_IMAGES = {"train": 3680, "test": 3669}


def summarize(samples: Iterable[float]) -> dict[str, Any]:
    """Median, minimum and maximum of repeated measurements, with the samples themselves.

    Args:
        samples: one number per repeat (at least one).

    Returns:
        ``{"median", "min", "max", "repeats", "samples"}``.
    """
    values = [float(v) for v in samples]
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "repeats": len(values),
        "samples": values,
    }


def _read_cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (Linux), else platform's guess."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.is_file() else []
    names = [line.partition(":")[2].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else platform.processor() or platform.machine()


def describe_machine() -> dict[str, Any]:
    """Describe where the benchmark runs: CPU model and cores, memory, GPUs, load, versions.

    Returns:
        A JSON-ready dict; ``gpus`` is a list of device names (empty on a CPU-only machine).
    """
    model = _read_cpu_model()
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    gpus = [
        tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name)
        for gpu in tf.config.list_physical_devices("GPU")
    ]
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_features": cpu_features(),  # bfloat16, avx512, avx2 (less ONEDNN_MAX_CPU_ISA's cap)
        "isa_cap": os.environ.get("ONEDNN_MAX_CPU_ISA"),  # set by benchmarks.run --as-avx2
        "cpu_features_uncapped": cpu_features(capped=False),
        "memory_gib": round(pages / 2**30, 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "gpus": gpus,
        "tf32_matmuls": bool(gpus)
        and tf.config.experimental.is_tensor_float_32_execution_enabled(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }


def _time_repeatedly(run: Callable[[int], float], repeats: int, min_sample_s: float) -> tuple:
    """Warm up, pick how many calls make one sample last ``min_sample_s``, then time samples.

    Args:
        run: ``run(k)`` performs k units of work and returns the seconds they took.
        repeats: number of timed samples.
        min_sample_s: the shortest sample worth timing.

    Returns:
        ``(units per sample, [seconds of each sample])``.
    """
    run(1)  # warm-up: tracing, kernel selection, caches
    units = max(1, math.ceil(min_sample_s / max(run(1), 1e-6)))
    return units, [run(units) for _ in range(repeats)]


def measure_matmul_peak(
    size: int = 4096, dtype: str = "float32", repeats: int = 7, min_sample_s: float = 0.3
) -> dict[str, Any]:
    """Measure the machine's practical peak: FLOP/s of a large square ``tf.linalg.matmul``.

    One product of two ``size × size`` matrices costs ``2 · size³`` FLOPs (a multiply and an
    add per term). On a GPU with TF32 enabled (TensorFlow's default on Ampere and later),
    float32 products run on TF32 tensor cores: ``describe_machine()["tf32_matmuls"]`` says so.

    Args:
        size: side of the matrices.
        dtype: ``"float32"`` or ``"bfloat16"``.
        repeats: number of timed samples (the median is quoted).
        min_sample_s: each sample chains enough products to last at least this long.

    Returns:
        ``{"dtype", "size", "products_per_sample", "gflops": summarize(GFLOP/s samples)}``.
    """
    a = tf.cast(tf.random.uniform((size, size), seed=1), dtype)  # (size, size)
    b = tf.cast(tf.random.uniform((size, size), seed=2), dtype)

    def run(products: int) -> float:
        start = time.perf_counter()
        for _ in range(products):
            product = tf.linalg.matmul(a, b)
        float(product[0, 0])  # waits for the result: GPUs compute asynchronously
        return time.perf_counter() - start

    products, seconds = _time_repeatedly(run, repeats, min_sample_s)
    flops = 2.0 * size**3 * products
    return {
        "dtype": dtype,
        "size": size,
        "products_per_sample": products,
        "gflops": summarize(flops / s / 1e9 for s in seconds),
    }


def count_flops(model: keras.Model) -> dict[str, float]:
    """Count a model's FLOPs per image analytically, from its convolution and dense layers.

    Forward: ``2·Kh·Kw·Cin·Cout·Hout·Wout`` per convolution (a multiply and an add per
    kernel weight and output pixel), ``2·Kh·Kw·Cin·Cout·Hin·Win`` per transposed
    convolution, ``2·Din·Dout`` per dense layer. Element-wise work (bias, batch
    normalisation, ReLU, pooling, up-sampling, softmax) is left out: next to a 3×3
    convolution it is about 1/(9·Cin) as much, and limited by memory, not arithmetic.
    A training step adds the backward pass:
    the gradient of the weights (as many FLOPs as the forward pass) and the gradient of the
    layer's input (as many again, except for layers that read the images, which need none).

    Args:
        model: a built functional Keras model.

    Returns:
        ``{"forward": FLOPs per image, "train": FLOPs per image of a training step,
        "layers": layers counted}``.
    """
    forward = backward = 0.0
    counted = 0
    for layer in model.layers:
        flops = _layer_flops(layer)
        if flops:
            counted += 1
            reads_images = any(layer.input is images for images in model.inputs)
            forward += flops
            backward += flops if reads_images else 2 * flops
    return {"forward": forward, "train": forward + backward, "layers": counted}


def _layer_flops(layer: keras.layers.Layer) -> float:
    """Forward FLOPs per image of one convolution / transposed convolution / dense layer."""
    if isinstance(layer, keras.layers.Dense):
        return 2.0 * math.prod(layer.kernel.shape) * math.prod(layer.output.shape[1:-1])
    if isinstance(layer, keras.layers.Conv2DTranspose):
        return 2.0 * math.prod(layer.kernel.shape) * math.prod(layer.input.shape[1:-1])
    if isinstance(layer, keras.layers.Conv2D):  # kernel (Kh, Kw, Cin / groups, Cout)
        return 2.0 * math.prod(layer.kernel.shape) * math.prod(layer.output.shape[1:-1])
    return 0.0


class _EpochTimer(keras.callbacks.Callback):
    """Seconds of each ``fit`` epoch, taken once the epoch's loss exists."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        float((logs or {}).get("loss", 0.0))  # GPUs compute asynchronously: wait for it
        self.seconds.append(time.perf_counter() - self._start)


def measure_train_throughput(
    model: keras.Model,
    images: tf.Tensor,
    masks: tf.Tensor,
    repeats: int = 5,
    min_sample_s: float = 2.0,
) -> dict[str, Any]:
    """Time a compiled model's training steps on one fixed batch (no input pipeline).

    The batch is fed from memory again and again, so the timing is the model's own step:
    forward, loss, backward, optimiser update and metrics. Each sample is one short
    ``fit`` epoch of enough steps to last ``min_sample_s``; the first epochs warm up.

    Args:
        model: a compiled model; its weights and optimiser state change.
        images: float32 (B, S, S, 3), one training batch.
        masks: int32 (B, S, S, 1), its masks.
        repeats: number of timed samples.
        min_sample_s: the shortest sample worth timing.

    Returns:
        ``{"batch_size", "steps_per_sample", "images_per_s": summarize(...)}``.
    """
    batches = tf.data.Dataset.from_tensors((images, masks)).repeat()
    batch_size = int(images.shape[0])

    def run(steps: int, epochs: int = 1) -> list[float]:
        timer = _EpochTimer()
        model.fit(batches, epochs=epochs, steps_per_epoch=steps, callbacks=[timer],
                  verbose=0, shuffle=False)  # fmt: skip
        return timer.seconds

    run(1)  # warm-up: the step is traced for this batch shape
    steps = max(1, math.ceil(min_sample_s / max(run(1)[0], 1e-6)))
    seconds = run(steps, epochs=repeats)
    return {
        "batch_size": batch_size,
        "steps_per_sample": steps,
        "images_per_s": summarize(steps * batch_size / s for s in seconds),
    }


def _time_passes(dataset: tf.data.Dataset, repeats: int) -> tuple[int, list[float]]:
    """Iterate ``dataset`` to its end ``repeats`` times; return (images per pass, seconds)."""
    seconds, count = [], 0
    for _ in range(repeats):
        start, count = time.perf_counter(), 0
        for images, _masks in dataset:
            count += int(images.shape[0])
        seconds.append(time.perf_counter() - start)
    return count, seconds


def measure_pipeline(
    source: DataSource,
    split: str,
    image_size: int,
    batch_size: int,
    repeats: int = 5,
    min_sample_s: float = 1.0,
) -> dict[str, Any]:
    """Images/s of decoded, resized, augmented batches along the lab's three routes.

    - ``files``: ``pipeline.make_dataset(cache=False)``, every epoch decodes and resizes
      every file again (the streaming route);
    - ``tf_data_cache``: ``make_dataset(cache=True)`` after its first epoch (``first_pass``
      is the epoch that decodes and fills the cache);
    - ``arrays``: ``load_arrays`` once (``decode_once``), then ``dataset_from_arrays``
      (the route ``training.train_unet`` uses).

    Args:
        source: the data source.
        split: a ``load_pets`` split, e.g. ``"train[:256]"``.
        image_size: side S of the images.
        batch_size: images per batch.
        repeats: timed passes per route (the median is quoted).
        min_sample_s: in-memory routes repeat the split within a pass to last this long.

    Returns:
        For each route ``{"images_per_s": summarize(...), ...}``, plus the settings.
    """

    def rates(images: int, seconds: list[float]) -> dict[str, Any]:
        return summarize(images / s for s in seconds)

    kwargs = {"image_size": image_size, "batch_size": batch_size}
    kwargs |= {"augment": True, "shuffle": True}  # a training pipeline
    files = pipeline.make_dataset(split, source, cache=False, **kwargs)
    next(iter(files))  # warm-up: traces the maps
    result = {"split": split, "image_size": image_size, "batch_size": batch_size}
    result["files"] = {"images_per_s": rates(*_time_passes(files, repeats))}

    cached = pipeline.make_dataset(split, source, cache=True, **kwargs)
    first = _time_passes(cached, 1)
    per_pass = max(1, math.ceil(min_sample_s / first[1][0]))  # in-memory passes are fast
    count, seconds = _time_passes(cached.repeat(per_pass), repeats)
    result["tf_data_cache"] = {"images_per_s": rates(count, seconds), "first_pass": rates(*first)}

    start = time.perf_counter()
    images, masks = pipeline.load_arrays(split, source, image_size)
    decode = rates(len(images), [time.perf_counter() - start])
    arrays = pipeline.dataset_from_arrays(images, masks, batch_size, augment=True, shuffle=True)
    per_pass = max(1, math.ceil(min_sample_s / _time_passes(arrays, 1)[1][0]))
    count, seconds = _time_passes(arrays.repeat(per_pass), repeats)
    result["arrays"] = {"images_per_s": rates(count, seconds), "decode_once": decode}
    return result


def estimate_dataset_memory(source: DataSource, image_size: int) -> dict[str, Any]:
    """Bytes each route holds per example, and for the whole official dataset at this size.

    Args:
        source: the data source (one batch is prepared to read the real dtypes).
        image_size: side S of the images.

    Returns:
        ``bytes_per_example`` of the arrays route (uint8) and of ``make_dataset``'s prepared
        examples (float32 images, int32 masks), and ``full_dataset_mib`` of each when all
        official images (train + test) are held.
    """
    spec = pipeline.make_dataset("train[:1]", source, image_size, 1, cache=False).element_spec
    prepared = sum(math.prod(s.shape[1:]) * s.dtype.size for s in spec)
    images, masks = pipeline.load_arrays("train[:1]", source, image_size)
    in_arrays = images[0].nbytes + masks[0].nbytes
    total = sum(OFFICIAL_IMAGES.values())
    return {
        "official_images": total,
        "bytes_per_example": {"arrays": in_arrays, "prepared": prepared},
        "full_dataset_mib": {
            "arrays": round(total * in_arrays / 2**20, 1),
            "tf_data_cache": round(total * prepared / 2**20, 1),
        },
    }


def peak_rss_mib() -> float:
    """This process's peak resident memory so far (``getrusage`` ``ru_maxrss``), in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes vs KiB
