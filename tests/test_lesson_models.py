"""Lessons 06 and 07 load the U-Net that lesson 05 saves.

The test session runs every lesson in a ``SEGLAB_HOME`` of its own (``conftest.py``), so there
lessons 06 and 07 find no saved model and train their stand-in. These tests hold the other
branch, the one a student who ran lesson 05 takes: lesson 05 saves its model under a file name,
and the loading cells of 06 and 07, run with their own Configuration, load that file.
"""

import re
import warnings
from pathlib import Path

import keras
import pytest

from labutils import env, models, splits
from labutils.instructor import lessons

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def code_cells(number: str) -> list[str]:
    [path] = NOTEBOOKS.glob(f"{number}_*.ipynb")
    cells = lessons.read_notebook(path)["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def cell_with(cells: list[str], text: str) -> str:
    [cell] = [c for c in cells if text in c]
    return cell


def lesson05_model_file() -> str:
    """The file name under ``data_dir()/models`` that lesson 05 saves its trained model to."""
    code = "\n".join(code_cells("05"))
    assert 'models_dir = env.data_dir() / "models"' in code
    [name] = re.findall(r'model_path = models_dir / "([^"]+)"\nmodel\.save\(model_path\)', code)
    return name


@pytest.mark.parametrize("lesson", ["06", "07"])
def test_lesson_loads_the_model_that_lesson_05_saves(lesson, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SEGLAB_HOME", str(tmp_path))
    saved = env.data_dir() / "models" / lesson05_model_file()
    saved.parent.mkdir(parents=True)
    unet = models.build_unet(image_size=32, base_filters=4, depth=2)
    unet.save(saved)
    cells = code_cells(lesson)
    namespace = {"env": env, "keras": keras, "splits": splits, "warnings": warnings}
    exec(cell_with(cells, "# Configuration"), namespace)
    exec(cell_with(cells, 'env.data_dir() / "models" / MODEL_FILE'), namespace)
    out = capsys.readouterr().out
    assert "Loaded lesson 05's" in out and f"{unet.count_params():,} parameters" in out, out
