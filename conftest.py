"""Test-session settings shared by the unit tests and the executed notebooks.

The notebooks save models and caches under ``labutils.env.data_dir()``. A test run must not
overwrite a student's own trained model in ``data/models/``, so the session points
``SEGLAB_HOME`` at a temporary folder (unless it is set already); a full dataset extracted into
``data/oxford-iiit-pet/`` is still used, through ``SEGLAB_DATA``.

It also sets ``SEGLAB_STRICT_CHECKS=1``: in the notebooks it executes, a checker that finds a
wrong answer raises (labutils.checks.verdict), so a lesson whose solution fails its own checker
fails its test; "not answered yet" (the student edition) does not.
"""

import os
import tempfile
from pathlib import Path


def pytest_configure(config):
    os.environ.setdefault("SEGLAB_STRICT_CHECKS", "1")  # a wrong solution fails its notebook
    if "SEGLAB_HOME" in os.environ:
        return
    checkout_data = Path(__file__).resolve().parent / "data" / "oxford-iiit-pet"
    if "SEGLAB_DATA" not in os.environ and checkout_data.is_dir():
        os.environ["SEGLAB_DATA"] = str(checkout_data)
    home = tempfile.TemporaryDirectory(prefix="seglab-test-home-")
    config.add_cleanup(home.cleanup)
    os.environ["SEGLAB_HOME"] = home.name
