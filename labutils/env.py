"""The notebooks' Setup cell: where the lab keeps its files, versions, seeding."""

from __future__ import annotations

import os
import platform
from pathlib import Path

__all__ = ["data_dir", "setup_notebook"]


def data_dir() -> Path:
    """Return the folder for downloads, caches and saved models.

    ``$SEGLAB_HOME`` if set; else the checkout's ``data/`` folder when labutils runs from a
    checkout (or an editable install); else ``./data`` (e.g. on Colab).
    """
    if os.environ.get("SEGLAB_HOME"):
        return Path(os.environ["SEGLAB_HOME"]).expanduser()
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file():
        return checkout / "data"
    return Path.cwd() / "data"


def setup_notebook(seed: int = 42) -> None:
    """Seed every random generator and print the versions and device in use.

    Warns (never fails) when there is no GPU.
    """
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
    if not gpus:
        print("No GPU found: everything runs on the CPU, training is just slower.")
