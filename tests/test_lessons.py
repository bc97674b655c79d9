"""Instructor tools: notebook files, stripping, the lesson template, HTML rendering."""

import json
import re
import shutil
import textwrap
from pathlib import Path

import nbformat
import pytest
import test_notebooks as hygiene  # the checks every lesson in notebooks/ must pass
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from labutils import REPO_BRANCH, REPO_URL
from labutils.instructor import lessons, rendering, student

ROOT = Path(__file__).resolve().parents[1]


def write(nb: dict, path: Path) -> Path:
    nbformat.write(nb, path)
    return path


def test_write_notebook_writes_what_nbformat_writes(tmp_path):
    nb = new_notebook(
        cells=[new_markdown_cell("# Title · ünïcode\n\nText."), new_code_cell("x = 1\nx")]
    )
    path = write(nb, tmp_path / "a.ipynb")
    lessons.write_notebook(lessons.read_notebook(path), tmp_path / "b.ipynb")
    assert (tmp_path / "b.ipynb").read_bytes() == path.read_bytes()


def test_read_notebook_rejects_what_is_not_a_notebook(tmp_path):
    with pytest.raises(FileNotFoundError, match="check the path"):
        lessons.read_notebook(tmp_path / "missing.ipynb")
    (tmp_path / "bad.ipynb").write_text("{not json")
    with pytest.raises(ValueError, match="invalid JSON"):
        lessons.read_notebook(tmp_path / "bad.ipynb")
    (tmp_path / "old.ipynb").write_text(json.dumps({"nbformat": 3, "worksheets": []}))
    with pytest.raises(ValueError, match="not an nbformat-4 notebook"):
        lessons.read_notebook(tmp_path / "old.ipynb")


def test_strip_notebook_removes_outputs_counts_timings_and_widget_state(tmp_path):
    cell = new_code_cell("print(1)", execution_count=3, outputs=[new_output("stream", text="1\n")])
    cell.metadata = {
        "tags": ["solution"],
        "nbmake": {"mock": {"EPOCHS": 1}},
        "execution": {"iopub.status.idle": "2026-01-01T00:00:00Z"},
    }
    nb = new_notebook(cells=[cell, new_markdown_cell("text")])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    path = write(nb, tmp_path / "a.ipynb")
    assert lessons.strip_notebook(path) is True
    [code, _] = lessons.read_notebook(path)["cells"]
    assert code["outputs"] == [] and code["execution_count"] is None
    assert code["metadata"] == {"tags": ["solution"], "nbmake": {"mock": {"EPOCHS": 1}}}
    assert "widgets" not in lessons.read_notebook(path)["metadata"]
    stripped = path.read_bytes()
    assert lessons.strip_notebook(path) is False
    assert path.read_bytes() == stripped


def test_colab_url_points_at_the_repository_and_branch():
    colab = REPO_URL.replace("https://github.com/", "https://colab.research.google.com/github/")
    assert lessons.colab_url("03_pets_dataset.ipynb") == (
        f"{colab}/blob/{REPO_BRANCH}/notebooks/03_pets_dataset.ipynb"
    )
    assert hygiene.colab_url(Path("03_pets_dataset.ipynb")) == lessons.colab_url(
        "03_pets_dataset.ipynb"
    )


def test_template_and_contributing_show_the_one_setup_cell():
    text = (ROOT / "CONTRIBUTING.md").read_text()
    block = re.search(r"3\. \*\*Setup\*\*.*?```python\n(.*?)```", text, re.S)[1]
    setup = next(
        c for c in lessons.read_notebook(lessons.TEMPLATE)["cells"] if c["cell_type"] == "code"
    )
    assert "".join(setup["source"]) == textwrap.dedent(block).strip() == lessons.setup_source()
    assert f"git+{REPO_URL}@{REPO_BRANCH}" in lessons.setup_source()


def test_write_setup_cells_rewrites_only_a_setup_cell_that_differs(tmp_path):
    lesson = shutil.copy(lessons.TEMPLATE, tmp_path / "01_lesson.ipynb")
    untouched = shutil.copy(lessons.TEMPLATE, tmp_path / "02_lesson.ipynb")
    nb = lessons.read_notebook(lesson)
    setup = next(c for c in nb["cells"] if c["cell_type"] == "code")
    setup["source"] = "# an old Setup cell\nimport sys"
    lessons.write_notebook(nb, lesson)
    assert lessons.write_setup_cells([lesson, untouched]) == [lesson]
    assert lesson.read_bytes() == untouched.read_bytes() == lessons.TEMPLATE.read_bytes()
    nb["cells"] = [new_markdown_cell("# 03 · No code")]
    lessons.write_notebook(nb, tmp_path / "03_empty.ipynb")
    with pytest.raises(ValueError, match="03_empty.ipynb has no code cell"):
        lessons.write_setup_cells([tmp_path / "03_empty.ipynb"])
    guide = tmp_path / "CONTRIBUTING.md"
    guide.write_text((ROOT / "CONTRIBUTING.md").read_text().replace("seed=42)", "seed=7)", 1))
    assert lessons.write_setup_block(guide) is True
    assert guide.read_text() == (ROOT / "CONTRIBUTING.md").read_text()
    assert lessons.write_setup_block(guide) is False
    guide.write_text("# Editing the lessons\n")
    with pytest.raises(ValueError, match="no '3. \\*\\*Setup\\*\\*' item"):
        lessons.write_setup_block(guide)


def test_new_lesson_takes_the_next_number_and_passes_the_hygiene_checks(tmp_path):
    first = lessons.new_lesson("masks", tmp_path)
    second = lessons.new_lesson("instance_masks", tmp_path, title="Instance segmentation")
    assert (first.name, second.name) == ("01_masks.ipynb", "02_instance_masks.ipynb")
    cells = lessons.read_notebook(second)["cells"]
    assert "".join(cells[0]["source"]).startswith("# 02 · Instance segmentation\n")
    assert lessons.read_notebook(first)["cells"][0]["source"][0] == "# 01 · Masks\n"
    for path in (first, second):
        assert "{{" not in path.read_text(), "every placeholder is filled"
        hygiene.test_notebook_anatomy(path)
        hygiene.test_notebook_is_stripped(path)
        hygiene.test_notebook_has_no_absolute_paths_or_foreign_urls(path)
    assert [c["cell_type"] for c in cells] == [
        c["cell_type"] for c in lessons.read_notebook(lessons.TEMPLATE)["cells"]
    ]


def test_new_lesson_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="lower-case letters and digits joined by underscores"):
        lessons.new_lesson("Instance Masks", tmp_path)
    with pytest.raises(FileNotFoundError, match="pass the lessons folder"):
        lessons.new_lesson("masks", tmp_path / "missing")


def test_new_lesson_and_its_student_edition_execute_with_nbmake(tmp_path, run_nbmake):
    lesson = lessons.new_lesson("template_check", tmp_path)
    student.write_student_edition(lesson, tmp_path / "student")
    assert (
        "pet_fraction = None  # YOUR CODE HERE" in (tmp_path / "student" / lesson.name).read_text()
    )
    result = run_nbmake(tmp_path)
    assert result.returncode == 0, result.stdout[-5000:]
    assert "2 passed" in result.stdout


def tiny_notebook(folder: Path, name: str, last_cell: str) -> Path:
    (folder / "note.txt").write_text("read from the notebook folder")
    cells = [
        new_code_cell("N = 1000", metadata={"nbmake": {"mock": {"N": 7}}}),
        new_code_cell('print(f"N is {N};", open("note.txt").read())'),
        new_code_cell(last_cell),
    ]
    return write(new_notebook(cells=cells), folder / name)


def test_render_html_writes_executed_pages_and_an_index_of_every_render(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")  # as in CI: the pages must still show figures
    plot = "import matplotlib.pyplot as plt\n\nplt.plot([0, 1])\nplt.show()"
    lesson = tiny_notebook(tmp_path, "01_tiny.ipynb", plot)
    pages = rendering.render_html([lesson], tmp_path / "html")
    assert pages == [tmp_path / "html" / "01_tiny.html"]
    page = pages[0].read_text()
    assert "N is 1000; read from the notebook folder" in page
    assert "data:image/png;base64" in page, "the figure is in the page"
    assert 'href="01_tiny.html"' in (tmp_path / "html" / "index.html").read_text()
    (tmp_path / "more").mkdir()
    other = tiny_notebook(tmp_path / "more", "02_other.ipynb", "print('two')")
    [ci_page] = rendering.render_html([other], tmp_path / "html", ci_values=True)
    assert "N is 7;" in ci_page.read_text()
    index = (tmp_path / "html" / "index.html").read_text()
    assert 'href="01_tiny.html"' in index and 'href="02_other.html"' in index, "a render adds"


def test_render_html_writes_a_failing_notebook_then_raises(tmp_path):
    broken = tiny_notebook(tmp_path, "02_broken.ipynb", 'raise ValueError("boom in cell 3")')
    for ci_values in (False, True):  # nbclient's error and nbmake's summary
        with pytest.raises(RuntimeError, match=r"02_broken.ipynb: ValueError: boom") as raised:
            rendering.render_html([broken], tmp_path / "html", ci_values=ci_values)
        assert "\x1b[" not in str(raised.value), "no terminal colour codes in the message"
    assert "boom in cell 3" in (tmp_path / "html" / "02_broken.html").read_text()
    with pytest.raises(ValueError, match="No notebooks to render"):
        rendering.render_html([], tmp_path / "html")
    with pytest.raises(FileNotFoundError, match="missing.ipynb"):
        rendering.render_html([tmp_path / "missing.ipynb"], tmp_path / "html")
    (tmp_path / "copy").mkdir()
    copy = shutil.copy(broken, tmp_path / "copy")
    with pytest.raises(ValueError, match="share a file name"):
        rendering.render_html([broken, copy], tmp_path / "html")


def test_the_strip_hook_runs_nbstripout_as_strip_notebook_does():
    import yaml  # pre-commit's own dependency

    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert hooks["strip-notebooks"]["entry"] == " ".join(["nbstripout", *lessons.NBSTRIPOUT_ARGS])
    assert hooks["strip-notebooks"]["language"] == "system"


def test_strip_notebook_keeps_a_stripped_lesson_byte_for_byte(tmp_path):
    lesson = shutil.copy(lessons.TEMPLATE, tmp_path / "01_lesson.ipynb")
    assert lessons.strip_notebook(lesson) is False
    assert lesson.read_bytes() == lessons.TEMPLATE.read_bytes()


def test_the_template_follows_the_cell_rules():
    cells = json.loads(lessons.TEMPLATE.read_text())["cells"]
    assert not hygiene.long_cells(cells)
    assert not hygiene.mislabelled_extra_code(cells)
    assert not hygiene.checker_problems(cells)
    hygiene.test_notebook_is_in_nbformat_layout(lessons.TEMPLATE)


def test_the_instructor_extra_installs_what_the_instructor_tools_run():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extra = {
        re.split(r"[ ;<>=!\[]", r)[0].lower()
        for r in project["optional-dependencies"]["instructor"]
    }
    assert {"nbformat", "nbstripout", "nbclient", "nbconvert", "nbmake"} <= extra, extra
