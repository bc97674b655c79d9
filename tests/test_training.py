"""Tests for labutils.training and its parts: schedule and callbacks, loss and compile, dtype
policy, the recipe, and evaluation."""

import math
import subprocess
import sys
from pathlib import Path

import keras
import matplotlib
import numpy as np
import pytest
import tensorflow as tf

from labutils import callbacks as lab_callbacks
from labutils import dtype_policy, evaluation, losses, metrics, pipeline, training
from labutils.models import any_image_size, build_unet
from labutils.vocabulary import CLASS_NAMES

matplotlib.use("Agg")

TINY = {"image_size": 16, "base_filters": 4, "depth": 2}


def blocky_arrays(n: int = 8, size: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """uint8 masks of 4×4 blocks (values 0..2) and uint8 images painting each class a colour."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 3, (n, size // 4, size // 4))
    masks = np.repeat(np.repeat(blocks, 4, axis=1), 4, axis=2)[..., None].astype(np.uint8)
    images = (np.eye(3)[masks[..., 0]] * 255).astype(np.uint8)
    return images, masks


def oracle_model(size: int) -> keras.Model:
    """A 'model' whose probabilities are its input: perfect on one-hot images."""
    inputs = keras.Input((size, size, 3))
    return keras.Model(inputs, keras.layers.Activation("linear")(inputs))


def test_cosine_learning_rate_warms_up_then_decays_to_zero():
    peak = 1e-3
    assert lab_callbacks.cosine_learning_rate(0.0, peak, warmup=0.1) == 0.0
    assert lab_callbacks.cosine_learning_rate(0.05, peak, warmup=0.1) == pytest.approx(peak / 2)
    assert lab_callbacks.cosine_learning_rate(0.1, peak, warmup=0.1) == pytest.approx(peak)
    assert lab_callbacks.cosine_learning_rate(0.55, peak, warmup=0.1) == pytest.approx(peak / 2)
    assert lab_callbacks.cosine_learning_rate(1.0, peak, warmup=0.1) == pytest.approx(
        0.0, abs=1e-12
    )
    decay = [lab_callbacks.cosine_learning_rate(p, peak, 0.1) for p in np.linspace(0.1, 1, 20)]
    assert np.all(np.diff(decay) <= 0)


def test_ce_dice_loss_matches_a_hand_computation():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 3, (2, 4, 4, 1))
    y_pred = rng.dirichlet(np.ones(3), size=(2, 4, 4)).astype(np.float32)
    one_hot = np.eye(3)[y_true[..., 0]]
    ce = -np.mean(np.log(np.sum(one_hot * y_pred, axis=-1)))
    overlap, total = (one_hot * y_pred).sum((0, 1, 2)), (one_hot + y_pred).sum((0, 1, 2))
    dice = (2 * overlap + 1) / (total + 1)
    expected = ce + 1 - dice.mean()
    loss = losses.ce_dice_loss(tf.constant(y_true), tf.constant(y_pred))
    assert float(loss) == pytest.approx(expected, rel=1e-4)
    perfect = losses.ce_dice_loss(tf.constant(y_true), tf.constant(one_hot, tf.float32))
    assert float(perfect) == pytest.approx(0.0, abs=1e-5)


def test_compiled_mean_iou_on_softmax_outputs_agrees_with_labutils_metrics():
    images, masks = blocky_arrays(n=6)
    model = losses.compile_model(build_unet(**TINY), loss="ce")
    scores = model.evaluate(images / 255.0, masks.astype(np.int32), verbose=0, return_dict=True)
    probs = model.predict(images / 255.0, verbose=0)
    assert scores["miou"] == pytest.approx(metrics.mean_iou(masks, probs, 3), abs=1e-5)
    assert scores["accuracy"] == pytest.approx(metrics.pixel_accuracy(masks, probs), abs=1e-5)


def test_compile_model_refuses_an_unknown_loss():
    with pytest.raises(ValueError, match="loss must be one of"):
        losses.compile_model(build_unet(**TINY), loss="dice")


def test_time_budget_follows_the_steps_without_a_budget():
    images, masks = blocky_arrays(n=8)
    model = losses.compile_model(build_unet(**TINY), learning_rate=1.0)
    budget = lab_callbacks.TimeBudget(peak_lr=1e-2, total_steps=3 * 4, minutes=None, warmup=0.25)
    history = model.fit(images / 255, masks, batch_size=2, epochs=3, callbacks=[budget], verbose=0)
    rates = history.history["learning_rate"]
    assert len(rates) == 3 and rates[0] > rates[1] > rates[2]
    assert budget.steps_done == 12 and budget.epochs_done == pytest.approx(3.0)
    assert rates[-1] == pytest.approx(lab_callbacks.cosine_learning_rate(11 / 12, 1e-2, 0.25))


def test_time_budget_stops_training_when_the_time_is_spent():
    images, masks = blocky_arrays(n=8)
    model = losses.compile_model(build_unet(**TINY))
    budget = lab_callbacks.TimeBudget(peak_lr=1e-3, total_steps=10_000, minutes=1e-6)
    history = model.fit(images / 255, masks, batch_size=2, epochs=50, callbacks=[budget], verbose=0)
    assert budget.steps_done == 1 and len(history.history["loss"]) == 1
    assert budget.epochs_done == pytest.approx(0.25)
    assert "val_miou" not in history.history  # no validation data given


def test_display_callback_draws_image_truth_and_prediction():
    images, masks = blocky_arrays(n=4)
    callback = lab_callbacks.DisplayCallback(images / 255.0, masks, every=2, max_images=3)
    callback.set_model(build_unet(**TINY))
    fig = callback.plot(epoch=1)
    assert len(fig.axes) == 3 * 3
    assert fig.axes[0].get_title() == "epoch 2" and fig.axes[2].get_title() == "predicted mask"
    legend = [text.get_text() for text in fig.legends[0].get_texts()]
    assert legend == list(CLASS_NAMES)  # the course's one colour key, as in every figure
    callback.on_epoch_end(0)  # epoch 1: nothing shown
    callback.on_epoch_end(1)  # epoch 2: shown and closed without error


def test_resume_weights(tmp_path: Path):
    path = tmp_path / "unet.weights.h5"
    model = build_unet(**TINY)
    assert training.resume_weights(model, path) is False
    model.save_weights(path)
    again = build_unet(**TINY)
    assert training.resume_weights(again, path) is True
    np.testing.assert_array_equal(again.get_weights()[0], model.get_weights()[0])
    wider = build_unet(**{**TINY, "base_filters": 8})
    with pytest.raises(ValueError, match=r"do not fit this model \(a layer expects"):
        training.resume_weights(wider, path)


def test_make_callbacks_checkpoint_the_best_epoch_and_stop_early(tmp_path: Path):
    path = tmp_path / "best.weights.h5"
    callbacks = lab_callbacks.make_callbacks(path, patience=1)
    kinds = [type(c).__name__ for c in callbacks]
    assert kinds == ["ModelCheckpoint", "FullSizeEarlyStopping"]
    images, masks = blocky_arrays(n=4)
    model = losses.compile_model(build_unet(**TINY), learning_rate=0.0)  # never improves
    data = (images / 255, masks)
    history = model.fit(*data, validation_data=data, epochs=10, callbacks=callbacks, verbose=0)
    assert len(history.history["loss"]) == 2 and path.is_file()
    assert lab_callbacks.make_callbacks(None, None) == []


def test_choose_dtype_policy():
    assert dtype_policy.choose_dtype_policy("float32") == "float32"
    assert dtype_policy.choose_dtype_policy("mixed_bfloat16") == "mixed_bfloat16"
    with pytest.raises(ValueError, match="precision"):
        dtype_policy.choose_dtype_policy("float16")


def test_train_unet_runs_the_recipe_and_reports_it():
    config = training.TrainConfig(model=dict(TINY), epochs=2, time_budget_min=None, batch_size=4)
    model, report = training.train_unet(config, blocky_arrays(8), blocky_arrays(4, seed=1))
    assert model.output_shape == (None, 16, 16, 3)
    assert report["epochs_done"] == pytest.approx(2.0) and report["steps"] == 4
    assert len(report["history"]["val_miou"]) == 2 and report["replicas"] == 1
    assert report["resumed"] is False


def test_train_unet_trains_small_first_then_at_full_size():
    config = training.TrainConfig(
        model=dict(TINY, image_size=32, batch_norm=True), epochs=6, time_budget_min=None,
        batch_size=4, stages=((0.25, 0.34), (0.5, 0.67)),
    )  # fmt: skip
    model, report = training.train_unet(config, blocky_arrays(8, 32), blocky_arrays(4, 32, 1))
    assert report["history"]["image_size"] == [8, 8, 8, 16, 16, 32]
    assert len(report["history"]["val_miou"]) == 6 and report["steps"] == 12
    assert model.input_shape == (None, 32, 32, 3)  # the declared side is back after training


def test_progressive_resize_shrinks_images_by_area_and_masks_by_label():
    images, masks = blocky_arrays(2, 32)
    budget = lab_callbacks.TimeBudget(1e-3, total_steps=10)
    resize = lab_callbacks.ProgressiveResize(budget, sides=(8,), until=(0.5,))
    small_images, small_masks = resize.resize(tf.constant(images / 255), tf.constant(masks))
    assert small_images.shape == (2, 8, 8, 3) and small_masks.dtype == tf.uint8
    np.testing.assert_array_equal(small_masks, masks[:, ::4, ::4])  # 4×4 blocks: exact
    np.testing.assert_allclose(small_images, images[:, ::4, ::4] / 255, atol=1e-6)
    budget.steps_done = 5  # half the schedule done: full size from the next epoch
    resize.on_epoch_begin(1)
    full_images, _ = resize.resize(tf.constant(images / 255), tf.constant(masks))
    assert full_images.shape == (2, 32, 32, 3)


@pytest.mark.parametrize(
    ("side", "stages", "expected"),
    [(128, ((0.5, 0.3),), ((64,), (0.3,))), (96, ((0.5, 0.3),), ((48,), (0.3,))),
     (112, ((0.5, 0.5), (0.75, 0.8)), ((48, 80), (0.5, 0.8))),
     (128, ((1.0, 0.3),), ((), ())), (128, (), ((), ())), (16, ((0.5, 0.3),), ((), ()))],
)  # fmt: skip
def test_stage_sides_are_multiples_of_the_pooling_or_dropped(side, stages, expected):
    model = {"image_size": side, "base_filters": 4, "depth": 4}
    assert training.stage_sides(training.TrainConfig(model=model, stages=stages)) == expected


@pytest.mark.parametrize(
    "stages", [((0.0, 0.3),), ((1.5, 0.3),), ((0.5, -0.1),), ((0.5, 2),), ((0.5, 0.6), (0.75, 0.4))]
)
def test_stage_sides_refuses_scales_and_ends_out_of_range(stages):
    with pytest.raises(ValueError, match="stages must be"):
        training.stage_sides(training.TrainConfig(stages=stages))


def test_check_config_refuses_a_side_the_unet_cannot_pool_before_any_data():
    with pytest.raises(ValueError, match="Try 96"):
        training.check_config(training.TrainConfig(model={**training.TrainConfig().model,
                                                          "image_size": 100}))  # fmt: skip
    with pytest.raises(ValueError, match="jit_compile"):
        training.check_config(training.TrainConfig(jit_compile="yes"))


def test_train_unet_with_xla_drops_the_last_small_batch_and_validates_every_epoch():
    config = training.TrainConfig(model=dict(TINY), epochs=2, time_budget_min=None, batch_size=4,
                                  jit_compile=True)  # fmt: skip
    model, report = training.train_unet(config, blocky_arrays(10), blocky_arrays(4, seed=1))
    assert report["steps"] == 4 and len(report["history"]["val_miou"]) == 2  # 10 // 4 a epoch
    assert model.jit_compile is True


def test_train_unet_streams_from_a_dataset_of_batches():
    streamed = pipeline.make_dataset("train[:8]", "synthetic", 32, 4, augment=True, cache=False)
    val = pipeline.make_dataset("test[:4]", "synthetic", 32, 4, cache=False)
    config = training.TrainConfig(model=dict(TINY, image_size=32), epochs=2, time_budget_min=None)
    model, report = training.train_unet(config, streamed, val)
    assert report["steps"] == 4 and len(report["history"]["val_miou"]) == 2
    assert report["history"]["image_size"] == [16, 32]  # 32 × 0.5 until 40 %, then full size


def test_train_unet_refuses_a_dataset_of_unknown_length():
    images, masks = blocky_arrays(8)
    batches = tf.data.Dataset.from_tensor_slices((images / 255, masks)).batch(4)
    unknown = batches.filter(lambda images, masks: True)
    config = training.TrainConfig(model=dict(TINY), epochs=1, time_budget_min=None)
    with pytest.raises(ValueError, match="known, finite length"):
        training.train_unet(config, unknown, batches)


MIRRORED_SCRIPT = """
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from labutils import training
from tests.test_training import TINY, blocky_arrays
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
config = training.TrainConfig(model=dict(TINY, batch_norm=True), epochs=2, time_budget_min=None,
                              batch_size=2)
model, report = training.train_unet(config, blocky_arrays(8), blocky_arrays(4, seed=1),
                                    strategy=strategy)
assert report["replicas"] == 2 and report["steps"] == 4, report
print("val_miou", report["history"]["val_miou"][-1])
"""


def test_train_unet_runs_mirrored_on_two_devices():
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", MIRRORED_SCRIPT],
        cwd=root, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "val_miou" in done.stdout


def test_train_unet_stops_at_the_time_budget():
    config = training.TrainConfig(model=dict(TINY), epochs=100, time_budget_min=1e-6, batch_size=4)
    _, report = training.train_unet(config, blocky_arrays(8), blocky_arrays(4, seed=1))
    assert report["steps"] == 1 and report["epochs_done"] == pytest.approx(0.5)


def test_evaluate_model_is_perfect_for_a_perfect_model():
    images, masks = blocky_arrays(n=6)
    ds = tf.data.Dataset.from_tensor_slices((images / 255, masks.astype(np.int32))).batch(4)
    result = evaluation.evaluate_model(oracle_model(16), ds)
    assert result["miou"] == 1.0 and result["mean_dice"] == 1.0
    assert result["pixel_accuracy"] == 1.0 and result["images"] == 6
    assert list(result["iou_per_class"]) == ["pet", "background", "border"]
    assert np.sum(result["confusion_matrix"]) == 6 * 16 * 16


def test_evaluate_model_resizes_probabilities_to_the_masks_size():
    images, masks = blocky_arrays(n=4)
    big_masks = np.repeat(np.repeat(masks, 3, axis=1), 3, axis=2).astype(np.int32)  # 48 × 48
    ds = tf.data.Dataset.from_tensor_slices((images / 255, big_masks)).batch(2)
    result = evaluation.evaluate_model(oracle_model(16), ds)
    probs = tf.image.resize(images / 255, (48, 48), "bilinear").numpy()
    assert result["miou"] == pytest.approx(metrics.mean_iou(big_masks, probs, 3))
    assert 0.7 < result["miou"] < 1.0  # edges blur, block interiors stay right


def test_flip_average_mirrors_back_and_averages_probabilities():
    model = build_unet(**TINY)  # random weights: its two predictions differ
    images = blocky_arrays(n=2)[0] / 255
    mirrored = model.predict_on_batch(images[:, :, ::-1])[:, :, ::-1]
    average = evaluation.flip_average(model, images)
    assert np.allclose(average, (model.predict_on_batch(images) + mirrored) / 2, atol=1e-6)
    assert np.allclose(average.sum(-1), 1.0, atol=1e-5)
    assert not np.allclose(average, model.predict_on_batch(images), atol=1e-3)


def test_evaluate_model_with_flip_scores_the_flip_averaged_labels():
    model = build_unet(**TINY)
    images, masks = blocky_arrays(n=6)
    ds = tf.data.Dataset.from_tensor_slices((images / 255, masks.astype(np.int32))).batch(4)
    expected = metrics.mean_iou(masks, evaluation.flip_average(model, images / 255), 3)
    assert evaluation.evaluate_model(model, ds, tta="flip")["miou"] == pytest.approx(expected)
    assert evaluation.evaluate_model(oracle_model(16), ds, tta="flip")["miou"] == 1.0
    with pytest.raises(ValueError, match="tta must be one of"):
        evaluation.evaluate_model(model, ds, tta="flip+rotate")


def test_multiscale_average_averages_flip_averages_resized_back():
    model = build_unet(**{**TINY, "image_size": 32})  # depth 2: sides are multiples of 4
    images = blocky_arrays(n=2, size=32)[0] / 255
    one_side = evaluation.multiscale_average(model, images, scales=(1.0,))
    assert np.allclose(one_side, evaluation.flip_average(model, images), atol=1e-6)
    with any_image_size(model):
        small = evaluation.flip_average(model, tf.image.resize(images, (28, 28)))  # 0.875 × 32
        large = evaluation.flip_average(model, tf.image.resize(images, (36, 36)))  # 1.125 × 32
    back = [tf.image.resize(p, (32, 32)).numpy() for p in (small, large)]
    expected = (back[0] + evaluation.flip_average(model, images) + back[1]) / 3
    average = evaluation.multiscale_average(model, images)
    assert average.shape == (2, 32, 32, 3) and np.allclose(average, expected, atol=1e-5)
    assert np.allclose(average.sum(-1), 1.0, atol=1e-5)


def test_choose_tta_keeps_the_way_with_the_best_validation_miou():
    model = build_unet(**TINY)
    images, masks = blocky_arrays(n=6)
    ds = tf.data.Dataset.from_tensor_slices((images / 255, masks.astype(np.int32))).batch(4)
    kept, scores = evaluation.choose_tta(model, ds)
    assert set(scores) == set(evaluation.TTA)
    assert scores[kept]["miou"] == max(score["miou"] for score in scores.values())
    assert evaluation.choose_tta(oracle_model(16), ds)[0] == "none"  # a tie keeps the cheapest


def test_train_config_for_a_bfloat16_cpu_is_wider_with_two_stages(monkeypatch):
    monkeypatch.setattr("labutils.recipe.choose_dtype_policy", lambda precision: "mixed_bfloat16")
    config = training.TrainConfig.for_device("cpu")
    assert config.model == {**training.TrainConfig().model, "base_filters": 16}
    assert config.stages == training.BFLOAT16_CPU_STAGES
    training.check_config(config)
    narrow = training.TrainConfig.for_device("cpu", model={**config.model, "base_filters": 4})
    assert narrow.model["base_filters"] == 4 and narrow.stages == config.stages  # overrides win


def test_evaluate_model_refuses_an_empty_dataset():
    images, masks = blocky_arrays(n=2)
    ds = tf.data.Dataset.from_tensor_slices((images / 255, masks)).take(0).batch(2)
    with pytest.raises(ValueError, match="no images"):
        evaluation.evaluate_model(oracle_model(16), ds)


def test_train_config_defaults_are_the_recipe():
    config = training.TrainConfig()
    assert config.model["image_size"] % 2 ** config.model["depth"] == 0
    assert config.time_budget_min is not None and config.time_budget_min < 15
    assert math.isfinite(config.learning_rate) and config.loss == "ce+dice"


def test_train_unet_returns_the_epoch_validation_chose_scored_at_full_size():
    config = training.TrainConfig(
        model=dict(TINY, image_size=32), epochs=4, time_budget_min=None, batch_size=4,
        stages=((0.5, 0.5),),
    )  # fmt: skip
    val = blocky_arrays(4, 32, seed=1)
    model, report = training.train_unet(config, blocky_arrays(8, 32), val)
    scores = report["history"]["val_miou"]
    assert report["history"]["image_size"] == [16, 16, 32, 32]
    assert report["best_epoch"] == int(np.argmax(scores)) + 1
    assert report["best_val_miou"] == pytest.approx(max(scores), abs=1e-4)
    val_ds = pipeline.dataset_from_arrays(*val, 4)  # 32 × 32: the side every epoch validated at
    assert evaluation.evaluate_model(model, val_ds)["miou"] == pytest.approx(max(scores), abs=1e-3)


# --- the GPU path, with fakes of the device query only (no GPU here) -------------------------
class FakeGPU:
    def __init__(self, capability: tuple[int, int] | None) -> None:
        self.name, self.device_type, self.capability = "/physical_device:GPU:0", "GPU", capability


def fake_gpus(monkeypatch: pytest.MonkeyPatch, *capabilities: tuple[int, int] | None) -> None:
    """Make TensorFlow's device query report GPUs of these compute capabilities."""
    real_list = tf.config.list_physical_devices
    gpus = [FakeGPU(c) for c in capabilities]

    def list_devices(device_type: str | None = None) -> list:
        return gpus if device_type == "GPU" else real_list(device_type)

    def details(gpu: FakeGPU) -> dict:
        return {} if gpu.capability is None else {"compute_capability": gpu.capability}

    monkeypatch.setattr(tf.config, "list_physical_devices", list_devices)
    monkeypatch.setattr(tf.config.experimental, "get_device_details", details)


@pytest.mark.parametrize(
    "capabilities, expected",
    [
        ([(7, 5)], "mixed_float16"),  # Colab's T4
        ([(8, 0), (9, 0)], "mixed_float16"),  # A100 + H100
        ([(7, 0)], "mixed_float16"),  # V100, the first with tensor cores
        ([(6, 1)], "float32"),  # P4 / GTX 1080: float16 is slow there
        ([(8, 0), (6, 0)], "float32"),  # one old card decides for the mirrored pair
        ([None], "float32"),  # a GPU without a CUDA compute capability
    ],
)
def test_auto_precision_on_gpus_follows_the_compute_capability(monkeypatch, capabilities, expected):
    fake_gpus(monkeypatch, *capabilities)
    assert dtype_policy.choose_dtype_policy("auto") == expected


@pytest.mark.parametrize(("bfloat16", "expected"), [(True, "mixed_bfloat16"), (False, "float32")])
def test_auto_precision_on_a_cpu_follows_its_bfloat16_units(monkeypatch, bfloat16, expected):
    fake_gpus(monkeypatch)  # no GPU at all
    features = {"bfloat16": bfloat16, "avx512": bfloat16, "avx2": True}
    monkeypatch.setattr(dtype_policy, "cpu_features", lambda: features)
    assert dtype_policy.choose_dtype_policy("auto") == expected
    assert dtype_policy.choose_dtype_policy("mixed_float16") == "mixed_float16"  # asked for: given


def test_cpu_features_obey_onednns_isa_cap(monkeypatch):
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")  # an AVX-512 CPU trains like an AVX2 one
    features = dtype_policy.cpu_features()
    assert features["bfloat16"] is False and features["avx512"] is False
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "SSE41")
    assert not any(dtype_policy.cpu_features().values())


def test_mixed_float16_gets_keras_loss_scaling_and_float32_probabilities():
    model = build_unet(**TINY, batch_norm=True, dtype="mixed_float16")
    losses.compile_model(model, 1e-3)
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert model.layers[1].compute_dtype == "float16" and model.output.dtype == "float32"
    plain = losses.compile_model(build_unet(**TINY), 1e-3)
    assert not isinstance(plain.optimizer, keras.optimizers.LossScaleOptimizer)


def test_train_unet_trains_in_mixed_float16_with_its_schedule():
    config = training.TrainConfig(model=dict(TINY, batch_norm=True), epochs=2, batch_size=4,
                                  time_budget_min=None, precision="mixed_float16")  # fmt: skip
    model, report = training.train_unet(config, blocky_arrays(8), blocky_arrays(4, seed=1))
    assert report["dtype_policy"] == "mixed_float16"
    assert all(math.isfinite(v) for v in report["history"]["loss"])
    assert report["history"]["learning_rate"][-1] < config.learning_rate  # the cosine decays
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)


def test_train_config_for_a_gpu_has_bigger_batches_and_outlasts_the_cpu_budget(monkeypatch):
    monkeypatch.setattr("labutils.recipe.choose_dtype_policy", lambda precision: "float32")
    cpu, gpu = training.TrainConfig.for_device("cpu"), training.TrainConfig.for_device("gpu")
    assert cpu == training.TrainConfig()  # a float32 CPU's recipe is the field defaults
    assert gpu.batch_size > cpu.batch_size and gpu.time_budget_min > cpu.time_budget_min
    assert training.TrainConfig.for_device("gpu", batch_size=8).batch_size == 8
    fake_gpus(monkeypatch, (7, 5))
    assert training.TrainConfig.for_device() == gpu
    fake_gpus(monkeypatch)
    assert training.TrainConfig.for_device() == cpu
    with pytest.raises(ValueError, match="device"):
        training.TrainConfig.for_device("tpu")


def test_full_size_early_stopping_does_not_spend_patience_on_small_epochs():
    model = build_unet(**TINY)  # side 16
    stopper = lab_callbacks.FullSizeEarlyStopping(monitor="val_miou", mode="max", patience=2)
    stopper.set_model(model)
    model.stop_training = False  # what fit sets
    stopper.on_train_begin()
    for epoch, (side, score) in enumerate([(8, 0.5), (8, 0.4), (8, 0.4), (8, 0.3), (16, 0.45)]):
        stopper.on_epoch_end(epoch, {"image_size": side, "val_miou": score})
        assert not model.stop_training, f"stopped at epoch {epoch + 1}, still at half size"
    stopper.on_epoch_end(5, {"image_size": 16, "val_miou": 0.45})  # 2nd full-size, no gain
    assert model.stop_training and stopper.best == 0.5  # the small epoch's score still counts
