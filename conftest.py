"""Test-session settings shared by the unit tests and the executed notebooks.

The notebooks save models and caches under ``labutils.env.data_dir()``. A test run must not
overwrite a student's own trained model in ``data/models/``, so the session points
``SEGLAB_HOME`` at a temporary folder (unless it is set already); a full dataset extracted into
``data/oxford-iiit-pet/`` is still used, through ``SEGLAB_DATA``.

Each executed lesson gets a home of its own, ``$SEGLAB_HOME/<lesson>``: a lesson runs as it does
for a student who opens only that lesson, whatever ran before it (and in whichever order, on
however many workers). So lessons 06 and 07 find no model saved by lesson 05 and run their
stand-in branch, which trains a small U-Net under the CI values.
``tests/test_lesson_models.py`` holds the other side of that dependency: 06 and 07 load the
file that lesson 05 saves.

It also sets ``SEGLAB_STRICT_CHECKS=1``: in the notebooks it executes, a checker that finds a
wrong answer raises (labutils.checks.verdict), so a lesson whose solution fails its own checker
fails its test; "not answered yet" (the student edition) does not.
"""

import os
import tempfile
from pathlib import Path

import pytest


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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Run an executed notebook (an nbmake item) in a ``SEGLAB_HOME`` of its own: see above."""
    if item.path.suffix != ".ipynb":
        return (yield)
    session_home = os.environ["SEGLAB_HOME"]
    os.environ["SEGLAB_HOME"] = str(Path(session_home) / item.path.stem)
    try:
        return (yield)
    finally:
        os.environ["SEGLAB_HOME"] = session_home
