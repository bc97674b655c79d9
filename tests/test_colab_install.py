"""Colab's branch of the Setup cell: what its install line would install, resolved offline.

Colab already has TensorFlow, Keras, numpy, TensorFlow Datasets and the rest of what the lab
uses, but neither keras-cv nor labutils. The test builds such an environment from this
virtual environment's own package metadata (every distribution except keras-cv, keras-core
and labutils), then asks pip for a dry run of the Setup cell's install line with a report of
what it would install. Nothing is downloaded: keras-cv and keras-core come as wheels holding
only their real metadata, and labutils is resolved from a copy of this checkout instead of
``git+https`` (there is no GitHub here). Lessons that use KerasHub (SAM) add requirements.txt's
keras-hub pin to the line; that line is resolved too, keras-hub and the Keras it needs coming
as metadata-only wheels.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
import tomllib

from labutils import REPO_BRANCH, REPO_URL

ROOT = Path(__file__).resolve().parents[1]
NOT_ON_COLAB = {"keras-cv", "keras-core", "labutils"}
#: Colab's versions are older than requirements.txt's pins (keras 3.15.1, numpy 2.4.6), so a pin
#: in labutils that Colab does not meet shows up as a package to install (and fails offline).
COLAB_VERSIONS = {"keras": "3.12.0", "numpy": "2.0.2"}
SETUPTOOLS = ("setuptools", "pkg_resources", "_distutils_hack", "distutils-precedence.pth")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def setup_install_lines() -> dict[str, list[str]]:
    """The arguments of each lesson's Setup cell ``%pip install``, by notebook name."""
    lines = {}
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        setup = next(
            c for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code"
        )
        (line,) = [line for line in setup["source"] if "%pip install" in line]
        lines[notebook.name] = shlex.split(line.split("%pip install", 1)[1])
    return lines


def keras_hub_pin() -> str:
    """requirements.txt's keras-hub pin, e.g. ``keras-hub==0.32.0``."""
    text = (ROOT / "requirements.txt").read_text()
    return re.search(r"^keras-hub==\S+", text, re.MULTILINE)[0]


def setup_install_line(with_keras_hub: bool = False) -> list[str]:
    """The Setup line every lesson shares; lessons that use KerasHub add its pin to it."""
    lines = {
        tuple(a for a in args if a != keras_hub_pin()) for args in setup_install_lines().values()
    }
    assert len(lines) == 1, f"every lesson's Setup cell installs the same (bar keras-hub): {lines}"
    base = list(lines.pop())
    return [*base[:-1], keras_hub_pin(), base[-1]] if with_keras_hub else base


def metadata_only_wheel(dist: metadata.Distribution, folder: Path) -> Path:
    """A wheel of ``dist`` with its real METADATA and no code: enough for pip to resolve it."""
    name, version = dist.metadata["Name"].replace("-", "_"), dist.version
    info = f"{name}-{version}.dist-info"
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(f"{info}/METADATA", dist.read_text("METADATA"))
        zf.writestr(
            f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        zf.writestr(f"{info}/RECORD", "")
    return wheel


def colab_like_env(folder: Path, without: set[str] = frozenset()) -> Path:
    """A virtual environment with this one's distributions bar keras-cv, keras-core, labutils
    (and ``without``).

    Their dist-info folders are copied (metadata only, no code), so pip sees them installed,
    keras and numpy at older versions (:data:`COLAB_VERSIONS`); setuptools is linked for
    real, to build labutils' metadata.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    site = next(folder.glob("lib/python3*/site-packages"))
    here = Path(
        next(p for p in sys.path if p.endswith("site-packages") and Path(p, "keras").is_dir())
    )
    for dist in metadata.distributions():
        name = canonical(dist.metadata["Name"])
        info = Path(dist._path)  # noqa: SLF001 (the dist-info folder itself)
        if name in NOT_ON_COLAB | without or info.parent != here or info.suffix != ".dist-info":
            continue
        version = COLAB_VERSIONS.get(name, dist.version)
        copy = site / info.name.replace(dist.version, version)
        shutil.copytree(info, copy, dirs_exist_ok=True)
        text = (copy / "METADATA").read_text()
        (copy / "METADATA").write_text(
            text.replace(f"\nVersion: {dist.version}\n", f"\nVersion: {version}\n", 1)
        )
    for entry in SETUPTOOLS:
        if (here / entry).exists():
            (site / entry).symlink_to(here / entry)
    return folder / "bin" / "python"


def checkout_copy(folder: Path) -> Path:
    """What pip needs to build labutils: pyproject.toml, README.md and the package."""
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, folder / name)
    shutil.copytree(ROOT / "labutils", folder / "labutils",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    return folder


def offline_pip(*args: str) -> subprocess.CompletedProcess:
    """This environment's pip with no index, no configuration and no PIP_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    return subprocess.run([sys.executable, "-m", "pip", *args], env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def colab_dry_run(tmp: Path, source: Path, with_keras_hub: bool) -> dict:
    """pip's report of what the Setup line would install in a Colab-like environment."""
    python = colab_like_env(tmp / "env", without={"keras-hub"} if with_keras_hub else set())
    wheels = tmp / "wheels"
    wheels.mkdir()
    for name in ("keras-cv", "keras-core", *(("keras-hub", "keras") if with_keras_hub else ())):
        metadata_only_wheel(metadata.distribution(name), wheels)
    requirements = [
        arg.replace(f"git+{REPO_URL}@{REPO_BRANCH}", source.as_uri())
        for arg in setup_install_line(with_keras_hub)
        if arg != "-q"
    ]
    assert any(source.as_uri() in r for r in requirements), requirements  # labutils, from here
    run = offline_pip(
        "--python", str(python), "install", "--dry-run", "--report", str(tmp / "r.json"),
        "--no-build-isolation", "--find-links", str(wheels), *requirements,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return {**json.loads((tmp / "r.json").read_text()), "python": str(python)}


@pytest.fixture(scope="module")
def colab_report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    source = checkout_copy(tmp_path_factory.mktemp("checkout"))
    return colab_dry_run(tmp_path_factory.mktemp("colab"), source, with_keras_hub=False)


@pytest.fixture(scope="module")
def colab_report_with_keras_hub(tmp_path_factory: pytest.TempPathFactory) -> dict:
    source = checkout_copy(tmp_path_factory.mktemp("checkout"))
    return colab_dry_run(tmp_path_factory.mktemp("colab_hub"), source, with_keras_hub=True)


def installed_versions(report: dict) -> dict[str, str]:
    return {canonical(i["metadata"]["name"]): i["metadata"]["version"] for i in report["install"]}


def test_setup_cell_installs_keras_cv_and_labutils_on_colab(colab_report: dict):
    installed = {canonical(item["metadata"]["name"]): item["metadata"]["version"]
                 for item in colab_report["install"]}  # fmt: skip
    assert installed.get("keras-cv") == "0.9.0" and "labutils" in installed, installed


def test_lessons_that_use_keras_hub_install_requirements_pin_on_colab():
    uses = {
        nb.name
        for nb in (ROOT / "notebooks").glob("*.ipynb")
        if "import keras_hub" in nb.read_text()
    }
    installs = {name for name, args in setup_install_lines().items() if keras_hub_pin() in args}
    assert uses and installs == uses, f"keras-hub in Setup: {installs}; imported by: {uses}"


def test_keras_hub_setup_adds_keras_hub_and_only_the_keras_it_needs(
    colab_report_with_keras_hub: dict,
):
    """keras-hub 0.32.0 requires Keras >= 3.15: on Colab's older Keras, pip raises Keras too,
    and leaves TensorFlow, numpy and TensorFlow Datasets alone."""
    installed = installed_versions(colab_report_with_keras_hub)
    assert installed.get("keras-hub") == keras_hub_pin().split("==")[1], installed
    assert set(installed) <= NOT_ON_COLAB | {"keras-hub", "keras"}, installed
    assert not set(installed) & {"tensorflow", "numpy", "tensorflow-datasets"}, installed


def test_setup_cell_leaves_colabs_tensorflow_keras_and_numpy_alone(colab_report: dict):
    installed = {canonical(item["metadata"]["name"]) for item in colab_report["install"]}
    assert not installed & {"tensorflow", "keras", "numpy", "tensorflow-datasets"}, installed
    assert installed <= NOT_ON_COLAB, f"only what Colab lacks: {installed}"


def test_the_colab_like_environment_has_colabs_older_keras_and_numpy(colab_report: dict):
    ask = "import importlib.metadata as m; print(m.version('keras'), m.version('numpy'))"
    run = subprocess.run([colab_report["python"], "-c", ask], capture_output=True, text=True)
    assert run.stdout.split() == [COLAB_VERSIONS["keras"], COLAB_VERSIONS["numpy"]], run.stderr


def test_labutils_declares_what_it_imports():
    imported = set()
    for module in (ROOT / "labutils").rglob("*.py"):
        for line in module.read_text().splitlines():
            if found := re.match(r"\s*(?:from|import) ([A-Za-z_0-9]+)", line):
                imported.add(found[1])
    by_module = {"numpy": "numpy", "matplotlib": "matplotlib", "PIL": "pillow", "cv2":
                 "opencv-python-headless", "ipywidgets": "ipywidgets", "tensorflow": "tensorflow",
                 "keras": "keras", "tensorflow_datasets": "tensorflow-datasets"}  # fmt: skip
    imported = {m for m in imported if m in by_module or m in {"keras_cv", "imageio"}}
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    requires = {canonical(re.split(r"[ ;<>=!\[]", r)[0]) for r in declared}
    assert "keras_cv" not in imported, "labutils must not import keras-cv (frozen upstream)"
    assert requires == {by_module[m] for m in imported if m in by_module}, requires


def test_the_wheel_holds_every_module_and_gives_no_package_data_warning(tmp_path: Path):
    (tmp_path / "src").mkdir()
    source = checkout_copy(tmp_path / "src")
    wheels = tmp_path / "wh"
    run = offline_pip(
        "wheel", "--no-deps", "--no-build-isolation", "-v", "-w", str(wheels), str(source)
    )
    assert run.returncode == 0, run.stderr[-3000:]
    log = run.stdout + run.stderr
    assert "ambiguous" not in log and "absent from the `packages`" not in log
    wheel = next(wheels.glob("labutils-*.whl"))
    packed = set(zipfile.ZipFile(wheel).namelist())
    assert "labutils/instructor/templates/lesson.ipynb" in packed
    modules = {str(p.relative_to(ROOT)) for p in (ROOT / "labutils").rglob("*.py")}
    assert modules <= packed, f"list their folders in pyproject's packages: {modules - packed}"
