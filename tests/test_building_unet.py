"""Lesson 04's U-Net and labutils.models.build_unet are one model.

The student writes ``conv_block``, ``down_block``, ``up_block`` and ``unet`` in
notebooks/04_building_unet.ipynb (the solution cells); later lessons build the model with
``models.build_unet``. These tests run the lesson's solution code and check that it builds
exactly build_unet's layers, in the same order, with the same settings, output shapes and
parameters, and that build_unet's weights make it compute the same function.
"""

import ast
import json
from pathlib import Path

import keras
import numpy as np
import pytest

from labutils import checks, models

LESSON = Path(__file__).resolve().parent.parent / "notebooks" / "04_building_unet.ipynb"
BLOCKS = ("conv_block", "down_block", "up_block", "unet")

# (unet's keyword arguments); build_unet gets the same with head_kernel=1, the paper's head.
CONFIGS = [
    {},  # the original lab's U-Net (64×64, 64 filters, 3 levels), its two bugs fixed
    {"image_size": 32, "base_filters": 4, "depth": 2},
    {"image_size": 32, "num_classes": 4, "base_filters": 4, "depth": 3, "batch_norm": True},
    {k: v for k, v in models.recommended_config().items() if k not in ("dropout", "head_kernel")},
]
DEFAULTS = {"image_size": 64, "num_classes": 3, "base_filters": 64, "depth": 3, "batch_norm": False}


def cells(tag=None):
    nb = json.loads(LESSON.read_text(encoding="utf-8"))
    return [
        "".join(c["source"])
        for c in nb["cells"]
        if c["cell_type"] == "code" and (tag is None or tag in c["metadata"].get("tags", []))
    ]


@pytest.fixture(scope="module")
def lesson():
    """The names that the lesson's solution cells define (its four blocks among them)."""
    namespace = {"keras": keras, "layers": keras.layers}
    for source in cells("solution"):
        defines = {n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)}
        if defines & set(BLOCKS):
            exec(compile(source, str(LESSON), "exec"), namespace)  # noqa: S102 – the lesson's code
    missing = [name for name in BLOCKS if name not in namespace]
    assert not missing, f"the lesson's solution cells do not define {missing}"
    return namespace


def keras_kind(layer):
    """The Keras class of a layer (labutils' FusedBatchNormalization is a BatchNormalization)."""
    return next(c.__name__ for c in type(layer).__mro__ if c.__module__.startswith("keras"))


SETTINGS = (
    "filters", "kernel_size", "strides", "padding", "use_bias", "activation", "pool_size",
    "size", "interpolation", "momentum", "epsilon", "center", "scale", "axis",
)  # fmt: skip


def describe(model):
    """Per layer: kind, output shape, parameters, settings, and which layers feed it."""
    index = {id(layer): i for i, layer in enumerate(model.layers)}
    rows = []
    for layer in model.layers:
        config = layer.get_config()
        inputs = layer.input if isinstance(layer.input, list) else [layer.input]
        feeds = [index.get(id(t._keras_history[0])) for t in inputs if t is not None]
        settings = {k: config[k] for k in SETTINGS if k in config}
        if settings.get("kernel_size") == (1, 1):
            settings.pop("padding")  # a 1×1 kernel reads no neighbours: "same" is "valid"
        rows.append((
            keras_kind(layer), tuple(layer.output.shape), layer.count_params(), settings, feeds,
        ))  # fmt: skip
    return rows


def config_id(config):
    return ",".join(f"{k}={v}" for k, v in config.items()) or "defaults"


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_lesson_unet_builds_exactly_build_unets_layers(lesson, config):
    mine = lesson["unet"](**config)
    theirs = models.build_unet(**{**DEFAULTS, **config}, head_kernel=1)
    assert mine.count_params() == theirs.count_params()
    assert len(mine.layers) == len(theirs.layers)
    for i, (a, b) in enumerate(zip(describe(mine), describe(theirs), strict=True)):
        assert a == b, f"layer {i}: the lesson builds {a}, build_unet {b}"
    assert mine.input.name == theirs.input.name == "images"
    assert mine.layers[-1].name == theirs.layers[-1].name == "probs"


@pytest.mark.parametrize("batch_norm", [False, True])
def test_build_unets_weights_make_the_lesson_unet_compute_the_same(lesson, batch_norm):
    config = {"image_size": 32, "base_filters": 4, "depth": 2, "batch_norm": batch_norm}
    theirs = models.build_unet(**config, head_kernel=1)
    rng = np.random.default_rng(0)
    weights = [rng.uniform(0.5, 1.5, w.shape).astype("float32") for w in theirs.get_weights()]
    theirs.set_weights(weights)  # random kernels and batch-norm statistics, variances > 0
    mine = lesson["unet"](**config)
    mine.set_weights(weights)
    images = rng.random((2, 32, 32, 3), dtype=np.float32)
    np.testing.assert_allclose(mine(images), theirs(images), rtol=1e-4, atol=1e-6)


def test_the_lesson_solution_passes_its_own_checkers(lesson, capsys):
    assert checks.check_conv_block(lesson["conv_block"])
    assert checks.check_down_block(lesson["down_block"])
    assert checks.check_up_block(lesson["up_block"])
    assert checks.check_unet(lesson["unet"])


def test_the_original_head_is_what_build_unet_keeps_by_default(lesson):
    """The lesson fixes the 3×3 head; build_unet() with its defaults is still the original."""
    fixed, original = lesson["unet"](), models.build_unet()
    assert original.count_params() - fixed.count_params() == (9 - 1) * 64 * 3  # 1,536 weights
    assert fixed.layers[-2].kernel_size == (1, 1) and original.layers[-2].kernel_size == (3, 3)


def test_build_unets_docstring_names_the_cell_that_teaches_it():
    doc = models.build_unet.__doc__
    assert "notebooks/04_building_unet.ipynb" in doc and "tests/test_building_unet.py" in doc
    nb = json.loads(LESSON.read_text(encoding="utf-8"))
    headings = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    section = doc.split("section ")[1].split(" ")[0]  # e.g. "7"
    assert any(h.startswith(f"## {section} · Write the U-Net in Keras") for h in headings)


def test_configuration_is_the_recommended_model():
    namespace = {}
    config_cell = next(s for s in cells() if s.startswith("# Configuration"))
    exec(config_cell, namespace)  # noqa: S102 – UPPER_CASE constants only
    recipe = models.recommended_config()
    assert namespace["IMAGE_SIZE"] == recipe["image_size"]
    assert namespace["BASE_FILTERS"] == recipe["base_filters"]
    assert namespace["DEPTH"] == recipe["depth"]
    assert namespace["BATCH_NORM"] == recipe["batch_norm"]
    assert namespace["HEAD_KERNEL"] == recipe["head_kernel"]
