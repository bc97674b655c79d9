import subprocess
import sys

from labutils import env


def test_data_dir_is_the_checkouts_data_folder(monkeypatch):
    monkeypatch.delenv("SEGLAB_HOME", raising=False)
    assert env.data_dir() == env.Path(env.__file__).resolve().parents[1] / "data"


def test_data_dir_follows_seglab_home(monkeypatch, tmp_path):
    monkeypatch.setenv("SEGLAB_HOME", str(tmp_path))
    assert env.data_dir() == tmp_path


def test_setup_notebook_seeds_and_reports(capsys):
    import numpy as np
    import tensorflow as tf

    env.setup_notebook(seed=7)
    first = np.random.rand()
    env.setup_notebook(seed=7)
    assert np.random.rand() == first, "the same seed gives the same random numbers"
    out = capsys.readouterr().out
    assert f"tensorflow {tf.__version__}" in out and "seed 7" in out


def test_importing_labutils_has_no_side_effects():
    code = "import sys, labutils.env, labutils.checks; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", "importing labutils must not import TensorFlow"
    assert out.stderr == ""
