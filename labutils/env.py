"""The notebooks' Setup cell: where the lab keeps its files, versions, seeding.

Every lesson's Setup cell calls :func:`setup_notebook`. It imports only the standard library;
TensorFlow is imported when a function needs it. :func:`quiet_tensorflow` drops lines like:

>>> bool(STARTUP_LINE.match("I0000 00:00:1796161083.363644   18523 port.cc:153] oneDNN ops"))
True
>>> bool(STARTUP_LINE.match("Traceback: something the user must see"))
False
"""

from __future__ import annotations

import os
import platform
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "STARTUP_LINE",
    "data_dir",
    "dropping_stderr_lines",
    "quiet_tensorflow",
    "setup_notebook",
]

#: The lines TensorFlow's C++ core writes while it starts (oneDNN, CUDA, CPU features). They
#: come before absl's logging is initialised, so TF_CPP_MIN_LOG_LEVEL does not hide them.
STARTUP_LINE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\)"
    r"|[IWE]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\] "
    r"|To enable the following instructions: )"
)


def data_dir() -> Path:
    """Return the folder for downloads, caches and saved models.

    ``$SEGLAB_HOME`` if set; else the checkout's ``data/`` folder when labutils runs from a
    checkout (or an editable install); else ``./data`` (e.g. on Colab). Used in lesson 05,
    §6 "Callbacks: watch, stop, keep the best" (where the trained models are saved) and by
    every data source.
    """
    if os.environ.get("SEGLAB_HOME"):
        return Path(os.environ["SEGLAB_HOME"]).expanduser()
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file():
        return checkout / "data"
    return Path.cwd() / "data"


def setup_notebook(seed: int = 42) -> None:
    """Seed every random generator and print the versions, the device and the labutils in use.

    The folder of the labutils imported is printed, so a notebook says which copy of the course
    it runs (a checkout, a student edition's own copy, or an installed one). Warns (never
    fails) when there is no GPU. TensorFlow starts quietly (:func:`quiet_tensorflow`).
    Used in every lesson's Setup cell.

    Args:
        seed: the seed of Python's, NumPy's and TensorFlow's generators (``keras.utils``).
    """
    quiet_tensorflow()  # TensorFlow's C++ start-up lines, unless TF_CPP_MIN_LOG_LEVEL is set
    import keras  # imported here so that importing labutils stays cheap
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    gpus = tf.config.list_physical_devices("GPU")
    facts = {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "device": f"{len(gpus)} GPU(s)" if gpus else "CPU only",
        "seed": str(seed),
    }
    print(" · ".join(f"{k} {v}" for k, v in facts.items()))
    print(f"labutils from {Path(__file__).resolve().parent}")
    if not gpus:
        print("No GPU found: everything runs on the CPU, training is just slower.")


def quiet_tensorflow() -> bool:
    """Import TensorFlow and Keras without TensorFlow's C++ start-up lines.

    Unless the user has set ``TF_CPP_MIN_LOG_LEVEL`` (then TensorFlow logs as they asked), it
    is set to 2 (errors only) before TensorFlow is imported, and the start-up lines that the
    variable cannot reach (absl's "All log messages before absl::InitializeLog()", oneDNN,
    CUDA, CPU features) are dropped; anything else written meanwhile is passed on. Used by
    :func:`setup_notebook` (every lesson's Setup cell) and the command line.

    Returns:
        True if the start-up was silenced, False if the user's setting was kept or
        TensorFlow was already imported.
    """
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ or "tensorflow" in sys.modules:
        return False
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    with dropping_stderr_lines(STARTUP_LINE):
        import keras  # noqa: F401 (loads TensorFlow's libraries, which log as they start)
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")  # CUDA's start-up lines come now, not mid-run
    return True


@contextmanager
def dropping_stderr_lines(pattern: re.Pattern) -> Iterator[None]:
    """Capture file descriptor 2 (where C++ writes) and replay the lines not matching.

    Used by ``tests/test_env.py`` too.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", errors="replace")
            kept = [line for line in text.splitlines(True) if not pattern.match(line)]
            sys.stderr.write("".join(kept))
            sys.stderr.flush()
