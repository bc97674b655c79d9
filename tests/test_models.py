"""Tests for labutils.models: the original lab's U-Net reproduced exactly, and the options."""

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
