"""Which Keras dtype policy to train in: float32, or a mixed policy where the hardware has units.

Under either mixed policy the weights stay float32 and the models' softmax is float32.
"""

from __future__ import annotations

import os
from pathlib import Path

import tensorflow as tf

__all__ = ["MIXED_FLOAT16_MIN_CAPABILITY", "choose_dtype_policy", "cpu_features"]

#: GPUs of this CUDA compute capability or newer (Volta, Turing e.g. Colab's T4, Ampere, ...)
#: have float16 tensor cores, which ``mixed_float16`` computes on.
MIXED_FLOAT16_MIN_CAPABILITY = (7, 0)

_POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")

#: /proc/cpuinfo flags behind each feature that decides how fast a CPU trains.
_FEATURE_FLAGS = {"bfloat16": {"avx512_bf16", "amx_bf16"}, "avx512": {"avx512f"}, "avx2": {"avx2"}}


def cpu_features(capped: bool = True) -> dict[str, bool]:
    """Whether this CPU has bfloat16 units (AVX512-BF16 or AMX), AVX-512 and AVX2.

    Used in lesson 05, §5 "Compile: optimizer, loss, metrics", which prints them.

    The one place the course reads them: :func:`choose_dtype_policy` trains in
    ``mixed_bfloat16`` where ``bfloat16`` is true, and the benchmark records all three.
    Read from ``/proc/cpuinfo`` (all false where there is none, e.g. on macOS), less what
    the environment variable ``ONEDNN_MAX_CPU_ISA`` forbids TensorFlow's oneDNN kernels to use:
    ``ONEDNN_MAX_CPU_ISA=AVX2`` makes an AVX-512 CPU with bfloat16 units train like an AVX2
    one (the benchmark's ``--as-avx2``).

    Args:
        capped: apply ``ONEDNN_MAX_CPU_ISA``'s cap (False: what the CPU itself has).

    >>> sorted(cpu_features())
    ['avx2', 'avx512', 'bfloat16']
    """
    cpuinfo = Path("/proc/cpuinfo")
    flags = set(cpuinfo.read_text().split()) if cpuinfo.is_file() else set()
    features = {name: bool(flags & wanted) for name, wanted in _FEATURE_FLAGS.items()}
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA", "ALL").upper()
    if capped and cap != "ALL":
        features["bfloat16"] &= any(word in cap for word in ("BF16", "AMX", "AVX10"))
        features["avx512"] &= cap.startswith(("AVX512", "AVX10"))
        features["avx2"] &= not cap.startswith(("SSE", "AVX_", "DEFAULT")) and cap != "AVX"
    return features


def choose_dtype_policy(precision: str = "auto") -> str:
    """Pick the Keras dtype policy for training.

    Taught in lesson 05, §8 "Fitting it into a few minutes on a CPU (optional)"; used
    in lesson 05, §5 "Compile: optimizer, loss, metrics" and lesson 09, §1 "An encoder that has
    already seen the world".

    ``"auto"`` gives, on a CUDA GPU, ``"mixed_float16"`` when every GPU has compute
    capability >= 7.0 (:data:`MIXED_FLOAT16_MIN_CAPABILITY`, float16 tensor cores) and
    ``"float32"`` on older ones; on a CPU, ``"mixed_bfloat16"`` where it has bfloat16 units
    (AVX512-BF16 or AMX) and ``"float32"`` elsewhere. ``losses.compile_model`` adds Keras's
    loss scaling for ``"mixed_float16"``.

    Args:
        precision: ``"auto"``, ``"float32"``, ``"mixed_bfloat16"`` or ``"mixed_float16"``.

    Returns:
        ``"float32"``, ``"mixed_bfloat16"`` or ``"mixed_float16"``.

    Raises:
        ValueError: for any other ``precision``.

    >>> choose_dtype_policy("float32"), choose_dtype_policy("mixed_float16")
    ('float32', 'mixed_float16')
    >>> choose_dtype_policy("float16")
    Traceback (most recent call last):
    ...
    ValueError: ...
    """
    if precision in _POLICIES:
        return precision
    if precision != "auto":
        raise ValueError(
            f"precision must be 'auto', 'float32', 'mixed_bfloat16' or 'mixed_float16', got "
            f"{precision!r}."
        )
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        capabilities = [
            tf.config.experimental.get_device_details(gpu).get("compute_capability") or (0, 0)
            for gpu in gpus
        ]  # e.g. (7, 5) for a T4; absent on non-CUDA GPUs
        return "mixed_float16" if min(capabilities) >= MIXED_FLOAT16_MIN_CAPABILITY else "float32"
    return "mixed_bfloat16" if cpu_features()["bfloat16"] else "float32"
