"""Fixtures the test modules share (the session's settings are in the checkout's conftest.py)."""

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def pets_folder() -> Path:
    """The real Oxford-IIIT Pet photos in the official layout, named by ``SEGLAB_DATA``.

    Skips the test when ``SEGLAB_DATA`` names no such folder (CI sets it to the shared sample;
    ``data/oxford-iiit-pet/`` in the checkout is used when ``SEGLAB_DATA`` is unset).
    """
    folder = Path(os.environ.get("SEGLAB_DATA", "")).expanduser()
    if not (folder / "annotations" / "trimaps").is_dir():
        pytest.skip(
            "needs real Oxford-IIIT Pet photos: set SEGLAB_DATA=/path/to/oxford-iiit-pet "
            f"(now {os.environ.get('SEGLAB_DATA', 'unset')!r})"
        )
    return folder


@pytest.fixture
def run_nbmake() -> Callable[..., subprocess.CompletedProcess]:
    """A function executing every notebook in a folder with nbmake, as CI does.

    The notebooks run in the folder, with a ``SEGLAB_HOME`` of their own in it, so a model they
    save never reaches another test. Extra pytest options follow the folder (``--overwrite``
    keeps the outputs in the notebooks).
    """

    def run(folder: Path, *options: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "pytest", "--nbmake", "-q", "-p", "no:cacheprovider"]
        command += options
        env = {**os.environ, "SEGLAB_HOME": str(folder / "seglab-home")}
        return subprocess.run(
            [*command, str(folder)], cwd=folder, env=env, capture_output=True, text=True,
            timeout=1500,
        )  # fmt: skip

    return run
