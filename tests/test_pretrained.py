"""labutils.pretrained beyond the tutorial's model (tests/test_models.py): the resize decoder,
batch norm for random weights, KerasHub's SegFormer built offline, and the one selection rule
that the lesson's comparison gives every model (its best validation epoch)."""

import os
import subprocess
import sys
from pathlib import Path

import keras
import keras_hub
import numpy as np
import pytest

from labutils import evaluation, pipeline, pretrained, training

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pets():
    """Small random photos and masks at 32², split into training and validation arrays."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (24, 32, 32, 3), dtype=np.uint8)
    masks = (images[..., :1] // 86).astype(np.uint8)  # labels 0..2 a model can learn
    return (images[:16], masks[:16]), (images[16:], masks[16:])


def test_the_resize_decoder_has_no_transposed_convolution_and_gives_probabilities():
    model = pretrained.build_pretrained_unet(64, weights=None, how="resize")
    kinds = {type(layer).__name__ for layer in model.layers}
    assert "Conv2DTranspose" not in kinds and "UpSampling2D" in kinds
    probs = keras.ops.convert_to_numpy(model(np.zeros((1, 64, 64, 3), np.float32)))
    assert probs.shape == (1, 64, 64, 3)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)


def test_random_weights_fine_tune_their_batch_norm_when_asked():
    model = pretrained.build_pretrained_unet(64, weights=None)
    pretrained.set_encoder_trainable(model, True, freeze_batch_norm=False)
    norms = [la for la in model.get_layer("encoder").layers
             if isinstance(la, keras.layers.BatchNormalization)]  # fmt: skip
    assert norms and all(la.trainable for la in norms)


def test_segformer_builds_offline_from_a_local_preset_folder(tmp_path):
    encoder = keras_hub.models.MiTBackbone(**pretrained.MIT_B0, image_shape=(64, 64, 3))
    encoder.save_to_preset(str(tmp_path))
    model = pretrained.build_segformer(96, preset=str(tmp_path))  # another side: same weights
    assert model.encoder_weights == str(tmp_path)
    loaded = model.get_layer("seg_former_image_segmenter").backbone.image_encoder
    for saved, got in zip(encoder.weights, loaded.weights, strict=True):
        np.testing.assert_array_equal(saved.numpy(), got.numpy())
    probs = keras.ops.convert_to_numpy(model(np.random.rand(2, 96, 96, 3).astype("float32")))
    assert probs.shape == (2, 96, 96, 3) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-5)
    assert 3e6 < model.count_params() < 4e6  # SegFormer-B0's 3.7 M, with a 3-class head


OFFLINE_SEGFORMER = """
from labutils import pretrained
model = pretrained.build_segformer(64, preset="mit_b0_ade20k_512")
print("encoder_weights=" + model.encoder_weights)
"""


def test_offline_segformer_preset_builds_random_weights_and_says_so(tmp_path):
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "all_proxy")}
    env.update(KAGGLEHUB_CACHE=str(tmp_path / "kaggle"), KERAS_HOME=str(tmp_path / "keras"),
               TF_CPP_MIN_LOG_LEVEL="3", https_proxy="http://proxy.invalid:9",
               http_proxy="http://proxy.invalid:9", HTTPS_PROXY="http://proxy.invalid:9",
               HTTP_PROXY="http://proxy.invalid:9")  # fmt: skip
    run = subprocess.run([sys.executable, "-c", OFFLINE_SEGFORMER], cwd=ROOT, env=env,
                         timeout=300, capture_output=True, text=True)  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.strip().splitlines()
    assert lines[-1] == "encoder_weights=random"
    assert "RANDOM weights" in lines[-2] and "not pretrained" in lines[-2]
    assert not [p for p in (tmp_path / "kaggle").rglob("*") if p.is_file()], "nothing downloaded"


def _val_miou(model, val):
    return evaluation.evaluate_model(model, pipeline.dataset_from_arrays(*val, 8))["miou"]


def test_both_sides_of_the_comparison_keep_their_best_validation_epoch(pets):
    """The lesson's rule: the MobileNetV2 U-Net (two phases, one KeepBest) and the scratch
    U-Net (training.train_unet) each end holding the weights of their best val_miou epoch."""
    train, val = pets
    config = training.TrainConfig(model={"image_size": 32, "base_filters": 4, "depth": 2},
                                  batch_size=8, epochs=3, time_budget_min=None,
                                  learning_rate=1e-2, stages=())  # fmt: skip
    mobile, keep = pretrained.build_pretrained_unet(32, weights=None), pretrained.KeepBest()
    first = pretrained.fit_model(mobile, config, train, val, keep=keep)
    pretrained.set_encoder_trainable(mobile, True, freeze_batch_norm=False)
    second = pretrained.fit_model(mobile, config, train, val, learning_rate=1e-3, keep=keep)
    keep.restore()  # the best epoch of either phase
    curve = first["history"]["val_miou"] + second["history"]["val_miou"]
    assert second["best_epoch"] == int(np.argmax(curve)) + 1
    assert _val_miou(mobile, val) == pytest.approx(max(curve), abs=1e-4)
    scratch, report = training.train_unet(config, train, val)
    assert report["best_epoch"] == int(np.argmax(report["history"]["val_miou"])) + 1
    assert _val_miou(scratch, val) == pytest.approx(max(report["history"]["val_miou"]), abs=1e-4)


def test_images_per_second_is_a_positive_rate(pets):
    model = pretrained.build_pretrained_unet(32, weights=None)
    assert pretrained.images_per_second(model, pets[1][0], batch_size=4) > 0
