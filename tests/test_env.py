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
    """Setup, the checkers and the data sources import cheaply: TensorFlow waits until used."""
    code = (
        "import sys, labutils.env, labutils.checks, labutils.data, labutils.sources.synthetic; "
        "print('tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", "importing labutils must not import TensorFlow"
    assert out.stderr == ""


QUIET = (
    "from labutils import env; import os; "
    "print(env.quiet_tensorflow(), os.environ['TF_CPP_MIN_LOG_LEVEL'])"
)


def _python(code: str, **env_vars: str) -> subprocess.CompletedProcess:
    import os

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"} | env_vars
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip


def test_quiet_tensorflow_silences_the_start_up_lines_unless_the_user_set_the_level():
    quiet = _python(QUIET)
    assert quiet.stdout.split() == ["True", "2"], quiet.stderr
    assert "absl::InitializeLog" not in quiet.stderr and "oneDNN" not in quiet.stderr
    assert "I0000" not in quiet.stderr and "cuInit" not in quiet.stderr
    respected = _python(QUIET, TF_CPP_MIN_LOG_LEVEL="0")
    assert respected.stdout.split() == ["False", "0"], respected.stderr


def test_only_start_up_lines_are_dropped(capfd):
    import os

    from labutils.env import STARTUP_LINE, dropping_stderr_lines

    with dropping_stderr_lines(STARTUP_LINE):
        os.write(2, b"I0000 00:00:1796161083.363644   18523 port.cc:153] oneDNN custom ops\n")
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called ...\n")
        os.write(2, b"E0000 00:00:1796161092.850614   18523 cuda_platform.cc:52] no cuInit\n")
        os.write(2, b"Traceback: something the user must see\n")
    assert capfd.readouterr().err == "Traceback: something the user must see\n"
