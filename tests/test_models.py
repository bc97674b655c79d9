"""Tests for labutils.models: the original lab's U-Net reproduced exactly, and the options."""

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from keras.layers import (
    BatchNormalization,
    Concatenate,
    Conv2D,
    Dropout,
    Input,
    MaxPooling2D,
    UpSampling2D,
)
from keras.models import Model

from labutils.models import (
    BN_MOMENTUM,
    FusedBatchNormalization,
    any_image_size,
    build_unet,
    recommended_config,
)
from labutils.pretrained import ENCODER_SKIPS, build_pretrained_unet, set_encoder_trainable


# --- the original lab's code, verbatim (shared/original-lab), to compare against -------------
def down_block(inputs, filters, kernel_size=(3, 3), padding="same", activation="relu"):
    conv = Conv2D(filters, kernel_size, activation=activation, padding=padding)(inputs)
    conv = Conv2D(filters, kernel_size, activation=activation, padding=padding)(conv)
    pool = MaxPooling2D(pool_size=(2, 2))(conv)
    return conv, pool


def up_block(inputs, skip, filters, kernel_size=(3, 3), padding="same", activation="relu"):
    up = UpSampling2D(size=(2, 2))(inputs)
    concat = Concatenate()([up, skip])
    conv = Conv2D(filters, kernel_size, activation=activation, padding=padding)(concat)
    conv = Conv2D(filters, kernel_size, activation=activation, padding=padding)(conv)
    return conv


def unet(img_size=(256, 256, 1), num_classes=1):
    inputs = Input(shape=img_size + (3,))

    # Down Blocks
    conv1, pool1 = down_block(inputs, 64)
    conv2, pool2 = down_block(pool1, 128)
    conv3, pool3 = down_block(pool2, 256)

    # Bottleneck
    conv4 = Conv2D(512, (3, 3), activation="relu", padding="same")(pool3)
    conv4 = Conv2D(512, (3, 3), activation="relu", padding="same")(conv4)

    # Up Blocks
    conv5 = up_block(conv4, conv3, 256)
    conv6 = up_block(conv5, conv2, 128)
    conv7 = up_block(conv6, conv1, 64)

    # Add a per-pixel classification layer
    outputs = keras.layers.Conv2D(num_classes, 3, activation="softmax", padding="same")(conv7)

    model = Model(inputs=inputs, outputs=outputs, name="unet")
    return model


# ------------------------------------------------------------------------------------------------


def test_defaults_reproduce_the_original_unet():
    original = unet(img_size=(64, 64), num_classes=3)  # as the lab called it
    ours = build_unet()
    assert ours.count_params() == original.count_params() == 7_784_579
    assert [w.shape for w in ours.weights] == [w.shape for w in original.weights]
    assert ours.input_shape == original.input_shape == (None, 64, 64, 3)
    assert ours.output_shape == original.output_shape == (None, 64, 64, 3)


def test_defaults_compute_the_same_function_as_the_original():
    original = unet(img_size=(64, 64), num_classes=3)
    ours = build_unet()
    ours.set_weights(original.get_weights())
    images = np.random.default_rng(0).random((2, 64, 64, 3), dtype=np.float32)
    np.testing.assert_allclose(ours(images), original(images), atol=1e-5)


def test_output_is_a_probability_per_class_at_the_input_size():
    model = build_unet(image_size=32, num_classes=3, base_filters=4, depth=2)
    probs = model(np.zeros((2, 32, 32, 3), np.float32)).numpy()
    assert probs.shape == (2, 32, 32, 3)  # c' = number of classes, not the 3 input channels
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "bottleneck_filters"),
    [({"base_filters": 8, "depth": 2}, 32), ({"base_filters": 4, "depth": 4}, 64)],
)
def test_depth_and_width_set_the_filters(kwargs, bottleneck_filters):
    model = build_unet(image_size=32, **kwargs)
    convs = [layer for layer in model.layers if isinstance(layer, Conv2D)]
    assert convs[0].filters == kwargs["base_filters"]
    assert max(c.filters for c in convs) == bottleneck_filters
    pools = [layer for layer in model.layers if isinstance(layer, MaxPooling2D)]
    assert len(pools) == kwargs["depth"]


def count_layers(model: keras.Model, kind: type) -> int:
    return sum(isinstance(layer, kind) for layer in model.layers)


def test_batch_norm_and_dropout_add_their_layers():
    plain = build_unet(image_size=32, base_filters=4, depth=2)
    model = build_unet(image_size=32, base_filters=4, depth=2, batch_norm=True, dropout=0.3)
    assert count_layers(model, BatchNormalization) == 2 * (2 * 2 + 1)  # two per block
    assert count_layers(model, Dropout) == 1
    assert count_layers(plain, BatchNormalization) == count_layers(plain, Dropout) == 0


@pytest.mark.parametrize("dtype", ["float32", "mixed_bfloat16"])
def test_fused_batch_normalization_computes_what_keras_computes(dtype):
    x = np.random.default_rng(0).normal(2.0, 3.0, (4, 8, 8, 5)).astype(np.float32)
    ours, keras_bn = FusedBatchNormalization(dtype=dtype), BatchNormalization(dtype=dtype)
    for layer in (ours, keras_bn):
        layer.build(x.shape)
        layer.gamma.assign(np.linspace(0.5, 2.0, 5))
    tolerance = 1e-5 if dtype == "float32" else 2e-2
    y_ours, y_keras = ours(x, training=True), keras_bn(x, training=True)
    assert y_ours.dtype == y_keras.dtype
    np.testing.assert_allclose(np.float32(y_ours), np.float32(y_keras), atol=tolerance)
    np.testing.assert_allclose(ours.moving_mean, keras_bn.moving_mean, rtol=1e-5)
    n = 4 * 8 * 8  # the fused kernel updates with the unbiased variance
    np.testing.assert_allclose(
        ours.moving_variance - 0.99, (keras_bn.moving_variance - 0.99) * n / (n - 1), rtol=1e-3
    )
    y_ours, y_keras = ours(x, training=False), keras_bn(x, training=False)
    np.testing.assert_allclose(np.float32(y_ours), np.float32(y_keras), rtol=1e-2, atol=tolerance)


def test_batch_norm_statistics_follow_the_last_batches():
    model = build_unet(image_size=16, base_filters=4, depth=2, batch_norm=True)
    first = next(layer for layer in model.layers if isinstance(layer, BatchNormalization))
    assert first.momentum == BN_MOMENTUM == 0.9
    images = np.random.default_rng(0).normal(5.0, 1.0, (4, 16, 16, 3)).astype(np.float32)
    for _ in range(20):  # the moving mean starts at 0; 20 steps bring it within 0.9**20 = 12 %
        outputs = first(model.layers[1](images), training=True)
    batch_mean = np.mean(model.layers[1](images), axis=(0, 1, 2))
    np.testing.assert_allclose(first.moving_mean, batch_mean, rtol=0.13, atol=1e-3)
    assert outputs.shape == (4, 16, 16, 4)


def test_any_image_size_lets_a_unet_take_other_sides_inside_the_block_only():
    model = build_unet(image_size=32, base_filters=4, depth=2)
    with any_image_size(model) as same:
        assert same is model
        assert model(np.zeros((2, 16, 24, 3), np.float32)).shape == (2, 16, 24, 3)
    assert model.input_shape == (None, 32, 32, 3)
    with pytest.raises(ValueError, match="expected shape=\\(None, 32, 32, 3\\)"):
        model(np.zeros((2, 16, 16, 3), np.float32))


def test_a_saved_batch_norm_model_loads_and_predicts_the_same(tmp_path):
    model = build_unet(image_size=16, base_filters=4, depth=2, batch_norm=True)
    model.save(tmp_path / "bn.keras")
    loaded = keras.models.load_model(tmp_path / "bn.keras", compile=False)
    images = np.random.default_rng(1).random((2, 16, 16, 3), dtype=np.float32)
    np.testing.assert_allclose(loaded(images), model(images), atol=1e-6)
    assert count_layers(loaded, FusedBatchNormalization) == 10


def test_mixed_bfloat16_still_outputs_float32_probabilities():
    model = build_unet(image_size=32, base_filters=4, depth=2, dtype="mixed_bfloat16")
    probs = model(np.zeros((1, 32, 32, 3), np.float32))
    assert probs.dtype == "float32"
    assert model.layers[1].compute_dtype == "bfloat16"


@pytest.mark.parametrize(
    "kwargs",
    [{"image_size": 60}, {"depth": 0}, {"num_classes": 1}, {"dropout": 1.0}, {"base_filters": 0}],
)
def test_bad_arguments_raise_a_clear_value_error(kwargs):
    with pytest.raises(ValueError, match="image_size|depth|num_classes|dropout|base_filters"):
        build_unet(**kwargs)


def test_recommended_config_builds_a_light_model():
    config = recommended_config()
    model = build_unet(**config)
    assert model.input_shape == (None, config["image_size"], config["image_size"], 3)
    assert model.count_params() < build_unet().count_params() / 2


# --- the pretrained-encoder U-Net (the TensorFlow tutorial's model) ---------------------------
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def mobile_unet():
    return build_pretrained_unet(image_size=64, weights=None)


def test_the_encoder_skips_are_mobilenetv2_layers_at_halving_sides(mobile_unet):
    encoder = mobile_unet.get_layer("encoder")
    sides = [encoder.get_layer(name).output.shape[1] for name in ENCODER_SKIPS]
    assert sides == [32, 16, 8, 4, 2]  # 1/2 ... 1/32 of the 64-pixel input
    assert encoder.get_layer("block_16_project").output.shape[-1] == 320


def test_pretrained_unet_outputs_probabilities_at_the_input_size(mobile_unet):
    images = np.random.default_rng(0).random((2, 64, 64, 3), dtype=np.float32)
    probs = keras.ops.convert_to_numpy(mobile_unet(images))
    assert probs.shape == (2, 64, 64, 3) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-5)
    assert mobile_unet.encoder_weights == "random"


def test_images_in_0_1_reach_the_encoder_in_minus_1_1(mobile_unet):
    rescale = next(
        layer for layer in mobile_unet.layers if isinstance(layer, keras.layers.Rescaling)
    )
    out = keras.ops.convert_to_numpy(rescale(np.array([[0.0, 0.5, 1.0]], np.float32)))
    np.testing.assert_allclose(out, [[-1.0, 0.0, 1.0]])  # what MobileNetV2's preprocess_input gives


def test_the_encoder_is_frozen_until_fine_tuning_and_batch_norm_stays_frozen():
    model = build_pretrained_unet(image_size=64, weights=None)
    encoder = model.get_layer("encoder")
    frozen = len(model.trainable_weights)
    assert not encoder.trainable_weights and frozen > 0  # only the decoder learns
    tuned = set_encoder_trainable(model, True)
    assert tuned == len(model.trainable_weights) > frozen
    norms = [la for la in encoder.layers if isinstance(la, keras.layers.BatchNormalization)]
    convs = [la for la in encoder.layers if isinstance(la, keras.layers.Conv2D)]
    assert norms and not any(la.trainable for la in norms)
    assert all(la.trainable for la in convs)
    assert set_encoder_trainable(model, False) == frozen


def test_a_training_step_leaves_a_frozen_encoder_unchanged():
    model = build_pretrained_unet(image_size=64, weights=None)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    encoder, decoder_conv = model.get_layer("encoder"), model.layers[-2]
    before = [w.copy() for w in encoder.get_weights()], decoder_conv.get_weights()[0].copy()
    rng = np.random.default_rng(0)
    images, masks = rng.random((4, 64, 64, 3), np.float32), rng.integers(0, 3, (4, 64, 64, 1))
    model.fit(images, masks, epochs=1, verbose=0)
    for old, new in zip(before[0], encoder.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)  # weights and batch-norm statistics
    assert not np.array_equal(before[1], decoder_conv.get_weights()[0])  # the decoder learnt


def test_weights_from_a_file_give_the_same_encoder(mobile_unet, tmp_path):
    backbone = keras.applications.MobileNetV2(input_shape=(64, 64, 3), include_top=False,
                                              weights=None)  # fmt: skip
    backbone.save_weights(tmp_path / "mobilenet.weights.h5")
    model = build_pretrained_unet(64, weights=str(tmp_path / "mobilenet.weights.h5"))
    assert model.encoder_weights == str(tmp_path / "mobilenet.weights.h5")
    first = backbone.get_layer("Conv1").get_weights()[0]
    np.testing.assert_array_equal(model.get_layer("encoder").get_layer("Conv1").get_weights()[0],
                                  first)  # fmt: skip


def test_mixed_float16_pretrained_unet_keeps_float32_output_and_restores_the_policy():
    model = build_pretrained_unet(image_size=64, weights=None, dtype="mixed_float16")
    assert model.get_layer("encoder").get_layer("Conv1").compute_dtype == "float16"
    assert model.output.dtype == "float32"
    assert keras.config.dtype_policy().name == "float32"


@pytest.mark.parametrize("kwargs", [{"image_size": 100}, {"num_classes": 1}])
def test_pretrained_unet_bad_arguments_raise_a_clear_value_error(kwargs):
    with pytest.raises(ValueError, match="multiple of 32|num_classes"):
        build_pretrained_unet(**{"weights": None, **kwargs})


def test_set_encoder_trainable_refuses_a_model_without_encoder():
    with pytest.raises(ValueError, match="no 'encoder' layer"):
        set_encoder_trainable(build_unet(image_size=16, base_filters=4, depth=2), True)


OFFLINE_BUILD = """
from labutils import pretrained
model = pretrained.build_pretrained_unet(image_size=96)
print("encoder_weights=" + model.encoder_weights)
"""


def test_offline_imagenet_request_builds_random_weights_with_one_line_and_no_download(tmp_path):
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "all_proxy")}
    env.update(KERAS_HOME=str(tmp_path / "keras"), TF_CPP_MIN_LOG_LEVEL="3",
               https_proxy="http://127.0.0.1:9", http_proxy="http://127.0.0.1:9",
               HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9")  # fmt: skip
    run = subprocess.run([sys.executable, "-c", OFFLINE_BUILD], cwd=ROOT, env=env, timeout=120,
                         capture_output=True, text=True)  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.strip().splitlines()
    assert lines[-1] == "encoder_weights=random"
    assert len(lines) == 2 and "RANDOM weights" in lines[0] and "not pretrained" in lines[0]
    cached = list((tmp_path / "keras").rglob("*.h5"))
    assert not cached, f"nothing may be downloaded: {cached}"  # the proxy refuses; nothing kept
