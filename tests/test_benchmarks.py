"""Tests for benchmarks/: the FLOP count, the summaries, the clock, and a --quick smoke run.

No test asserts a time: the smoke run checks that every section is there with sane values.
"""

import json
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.python.profiler.model_analyzer import profile
from tensorflow.python.profiler.option_builder import ProfileOptionBuilder

from labutils import data, splits
from labutils.models import build_unet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # benchmarks/ is a folder of the checkout, not an installed package

from benchmarks import levers, measure, run, worker  # noqa: E402


def profiler_flops(model: keras.Model, size: int) -> dict[str, int]:
    """TensorFlow's own FLOP count of one image's forward pass, by op name."""
    forward = tf.function(lambda images: model(images, training=False))
    graph = forward.get_concrete_function(tf.TensorSpec([1, size, size, 3])).graph
    options = ProfileOptionBuilder(ProfileOptionBuilder.float_operation()).with_empty_output()
    return {op.name: op.total_float_ops for op in profile(graph, options=options.build()).children}


def test_count_flops_matches_tensorflow_profiler_on_a_unet():
    model = build_unet(32, base_filters=4, depth=2, batch_norm=True)
    by_op = profiler_flops(model, 32)
    convolutions = sum(flops for name, flops in by_op.items() if name.endswith("/convolution"))
    first = 2 * 3 * 3 * 3 * 4 * 32 * 32  # the convolution that reads the images
    counted = measure.count_flops(model)
    assert counted["forward"] == convolutions
    assert counted["train"] == 3 * convolutions - first  # no gradient for the images
    assert counted["layers"] == 11  # 2 per block × (2 down + bottleneck + 2 up) + the head


def test_count_flops_counts_transposed_convolutions_and_dense_layers():
    images = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same")(images)
    x = keras.layers.Conv2DTranspose(5, 3, strides=2, padding="same")(x)
    model = keras.Model(images, keras.layers.Dense(6)(x))
    by_op = profiler_flops(model, 8)
    expected = sum(f for name, f in by_op.items() if not name.endswith("BiasAdd"))
    assert measure.count_flops(model)["forward"] == expected == 3456 + 5760 + 3840


def test_summarize_gives_the_median_of_the_samples():
    summary = measure.summarize([3.0, 1.0, 10.0, 2.0, 4.0])
    assert summary["median"] == 3.0
    assert (summary["min"], summary["max"], summary["repeats"]) == (1.0, 10.0, 5)


def test_describe_machine_names_the_cpu_and_counts_cores():
    machine = measure.describe_machine()
    assert machine["cpu"] and machine["cores"] >= 1 and machine["memory_gib"] > 0
    assert len(machine["gpus"]) == len(tf.config.list_physical_devices("GPU"))


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="needs Linux's /proc")
def test_peak_rss_agrees_with_the_kernels_high_water_mark():
    status = Path("/proc/self/status").read_text().splitlines()
    vm_hwm_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    assert measure.peak_rss_mib() == pytest.approx(vm_hwm_kib / 1024, rel=0.02)


def test_matmul_peak_is_a_positive_rate_per_sample():
    peak = measure.measure_matmul_peak(256, "float32", repeats=5, min_sample_s=0.01)
    assert peak["gflops"]["repeats"] == 5
    assert all(rate > 0 for rate in peak["gflops"]["samples"])


def test_train_throughput_times_the_requested_samples():
    model = build_unet(16, base_filters=4, depth=1)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    images = tf.random.uniform((4, 16, 16, 3))
    masks = tf.random.uniform((4, 16, 16, 1), maxval=3, dtype=tf.int32)
    result = measure.measure_train_throughput(model, images, masks, repeats=5, min_sample_s=0.01)
    assert result["batch_size"] == 4
    assert result["images_per_s"]["repeats"] == 5 and result["images_per_s"]["min"] > 0


def test_pipeline_routes_and_memory_estimate_on_synthetic_scenes():
    source = data.find_source("synthetic", verbose=False)
    result = measure.measure_pipeline(source, "train[:4]", 32, 2, repeats=1, min_sample_s=0.01)
    for route in ("files", "tf_data_cache", "arrays"):
        assert result[route]["images_per_s"]["median"] > 0
    memory = measure.estimate_dataset_memory(source, 32)
    assert memory["bytes_per_example"] == {"arrays": 32 * 32 * 4, "prepared": 32 * 32 * 16}
    assert memory["full_dataset_mib"]["arrays"] == pytest.approx(7349 * 4096 / 2**20, abs=0.1)


def test_original_model_is_the_original_unet_at_full_width():
    assert build_unet(**worker.original_model(1.0)).count_params() == build_unet().count_params()
    assert worker.original_model(0.25)["base_filters"] == 16
    with pytest.raises(ValueError, match="width_fraction"):
        worker.original_model(0.0)


def test_epoch_recorder_leaves_evaluation_out_of_the_training_clock(tmp_path, monkeypatch):
    now = [100.0]  # a fake clock: the test sets the time, no wall clock is read
    monkeypatch.setattr(worker.time, "perf_counter", lambda: now[0])
    recorder = worker.EpochRecorder(budget_s=60.0, folder=tmp_path, name="test")
    recorder.on_train_begin()
    now[0] += 2.0  # two seconds of training
    recorder.on_test_begin()
    now[0] += 30.0  # thirty of validation
    recorder.on_test_end()
    assert recorder.clock() == pytest.approx(2.0)


def test_epoch_recorder_stops_at_the_budget_and_saves_every_epoch(tmp_path):
    model = build_unet(16, base_filters=2, depth=1)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    images = np.zeros((8, 16, 16, 3), np.float32)
    masks = np.zeros((8, 16, 16, 1), np.int32)
    recorder = worker.EpochRecorder(budget_s=0.0, folder=tmp_path, name="test")
    model.fit(images, masks, batch_size=4, epochs=5, callbacks=[recorder], verbose=0)
    assert len(recorder.snapshots) == 1 and recorder.snapshots[0]["steps"] == 1
    assert recorder.snapshots[0]["image_size"] == 16  # no ProgressiveResize: the model's side
    assert Path(recorder.snapshots[0]["path"]).is_file()


def epochs(*pairs: tuple[float, float], test_miou: float = 0.5) -> dict:
    """A worker result holding only per-epoch (seconds, validation mIoU) and a test mIoU."""
    return {"epochs": [{"seconds": s, "miou": m} for s, m in pairs], "train_seconds": pairs[-1][0],
            "test": {"miou": test_miou}}  # fmt: skip


def test_time_to_quality_compares_against_each_originals_best():
    runs = {
        "original x1": [epochs((300, 0.30), (600, 0.45))],
        "original x0.25": [epochs((100, 0.40), (200, 0.55), (300, 0.50))],
        "recommended": [epochs((20, 0.50), (40, 0.56), (300, 0.70), test_miou=0.68)],
    }
    settings = {"budget_minutes": 5, "eval_size": 128, "repeats": 1}
    summary = run.summarize_time_to_quality(runs, settings)
    quarter = summary["originals"]["original x0.25"]
    assert quarter["target_miou"] == 0.55 and quarter["seconds_to_target"] == 200
    assert quarter["recommended_seconds_to_target"] == 40
    assert quarter["time_ratio"] == pytest.approx(0.2)
    assert quarter["miou_gap"] == pytest.approx(0.15)
    exact = summary["originals"]["original x1"]
    assert exact["time_ratio"] == pytest.approx(20 / 600) and exact["miou_gap"] == pytest.approx(
        0.25
    )
    assert summary["configs"]["recommended"] == {
        "best_miou": 0.70,
        "epochs": 3,
        "train_seconds": 300,
        "test_miou": 0.68,
    }


def test_time_to_quality_says_when_the_target_is_never_reached():
    runs = {"original x1": [epochs((10, 0.6))], "recommended": [epochs((10, 0.3), (20, 0.5))]}
    settings = {"budget_minutes": 1, "eval_size": 64, "repeats": 1}
    summary = run.summarize_time_to_quality(runs, settings)["originals"]["original x1"]
    assert summary["recommended_seconds_to_target"] is None and summary["time_ratio"] is None
    assert summary["miou_gap"] == pytest.approx(-0.1)


def test_bad_arguments_end_in_one_line_and_exit_code_1(tmp_path, capsys):
    assert run.main(["--data", str(tmp_path / "nowhere"), "--json", str(tmp_path / "r.json")]) == 1
    assert run.main(["--quick", "--budget-minutes", "0"]) == 1
    assert run.main(["--quick", "--width-fraction", "1", "1.5"]) == 1
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 3 and all(line.startswith("error: ") for line in errors)
    assert "nowhere" in errors[0] and "--budget-minutes" in errors[1]
    assert "--width-fraction values must lie in (0, 1], got 1.0 1.5" in errors[2]


def test_time_ci_suite_runs_pytest_and_reports_its_summary():
    source = data.find_source("synthetic", verbose=False)
    one_test = "tests/test_benchmarks.py::test_summarize_gives_the_median_of_the_samples"
    result = run.time_ci_suite(source, (one_test,))
    assert result["exit_code"] == 0 and "1 passed" in result["summary"]
    assert result["seconds"] > 0


def test_quick_run_writes_every_section_with_sane_values(tmp_path):
    out = tmp_path / "bench.json"
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    for number in range(1, 6):
        assert f"\n{number}. " in "\n" + completed.stdout
    results = json.loads(out.read_text())
    assert set(results["time_to_quality"]["originals"]) == {"original x0.25"}
    recommended = results["runs"]["recommended"][0]["epochs"]
    assert recommended[0]["image_size"] == 64  # the first stage trains at half the side
    assert results["settings"]["val_split"] == "train[-8:]"  # validation from training photos
    for config, [result] in results["runs"].items():
        val_scores = [e["miou"] for e in result["epochs"]]
        assert result["test"]["epoch"] == int(np.argmax(val_scores)) + 1, config
        assert 0 <= result["test"]["miou"] <= 1 and result["images"]["test"] == 8
        tta = result["test"]["test_time_augmentation"]  # the best way on validation
        assert tta["validation_miou"]["none"] == pytest.approx(max(val_scores)), config
        assert tta["validation_miou"][tta["kept"]] == max(tta["validation_miou"].values())
    for config in ("original x0.25", "recommended"):
        throughput = results["throughput"][config]
        assert throughput["images_per_s"] > 0 and throughput["gflops"] > 0
        assert throughput["fraction_of_own_dtype_peak"] > 0  # of a 256² matmul: no bound
        assert results["peak"][config]["float32"]["gflops"]["repeats"] >= 2
        assert 0 <= results["time_to_quality"]["configs"][config]["best_miou"] <= 1
        assert all(0 <= e["miou"] <= 1 for e in results["runs"][config][0]["epochs"])
        assert results["memory"]["peak_rss_mib"][config] > 100  # TensorFlow alone takes more
    for route in ("files", "tf_data_cache", "arrays"):
        assert results["pipeline"][route]["images_per_s"]["median"] > 0
        assert results["pipeline"]["ratio"][route] > 0
    assert results["ci_suite"] is None


def test_full_run_follows_the_course_protocol():
    for settings in (run.FULL, run.QUICK):
        assert settings["val_split"].startswith("train"), "validation comes from training photos"
        assert "test" in settings["test_split"]
    assert (run.FULL["train_split"], run.FULL["val_split"], run.FULL["test_split"]) == (
        splits.TRAIN_SPLIT,
        splits.VAL_SPLIT,
        splits.TEST_SPLIT,
    )


def test_readme_performance_table_is_generated_from_results_json():
    from benchmarks import readme

    block = readme.performance_block(json.loads(readme.RESULTS.read_text(encoding="utf-8")))
    assert block in (ROOT / "README.md").read_text(encoding="utf-8"), (
        "README.md's performance table differs from benchmarks/results.json: do not edit it by "
        "hand; run `python -m benchmarks.readme --write`"
    )


def test_readme_block_follows_the_results_and_write_replaces_only_it(tmp_path):
    from benchmarks import readme

    results = json.loads(readme.RESULTS.read_text(encoding="utf-8"))
    for original in results["time_to_quality"]["originals"].values():
        original["miou_gap"] = 0.05
    results["machine"]["load_average_1min"] = 0.2
    results["date"] = "2027-01-31"
    block = readme.performance_block(results)
    words = " ".join(block.split())  # the prose is wrapped at 100 characters
    assert "≥ +0.10: missed in one run (+0.05" in words  # one run: it says so
    assert "The machine was quiet (load average 0.2" in words and "run on 2027-01-31" in words
    (tmp_path / "results.json").write_text(json.dumps(results))
    page = tmp_path / "README.md"
    page.write_text(f"# Lab\n\n{readme.BEGIN}\nold\n{readme.END}\n\nAfter.\n")
    args = ["--results", str(tmp_path / "results.json"), "--readme", str(page), "--write"]
    assert readme.main(args) == 0
    assert page.read_text() == f"# Lab\n\n{block}\n\nAfter.\n"
    page.write_text("# Lab without markers\n")
    assert readme.main(args) == 1


@pytest.mark.parametrize("name", levers.TABLES)
def test_lever_tables_in_benchmarks_readme_are_generated_from_their_json(name):
    results = json.loads((ROOT / "benchmarks" / name).read_text(encoding="utf-8"))
    page = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    begin, end = levers.markers(name)
    assert f"{begin}\n\n{levers.lever_table(results)}\n\n{end}" in page, (
        f"benchmarks/README.md's lever table differs from benchmarks/{name}: run "
        f"`python -m benchmarks.levers --write-readme --json benchmarks/{name}`"
    )
    assert all(0 < run["best_val_miou"] < 1 for run in results["runs"].values())


def test_each_lever_changes_the_previous_recipe_into_a_valid_config():
    from labutils import training

    for name in levers.LEVERS:
        settings = levers._settings(name)
        model = {**training.TrainConfig().model, **settings.pop("model")}
        settings["stages"] = tuple(tuple(stage) for stage in settings["stages"])
        training.check_config(training.TrainConfig(model=model, **settings))
    assert levers._settings("previous")["model"] == {"base_filters": 16}
    recipe, config = levers._settings("recipe"), training.TrainConfig()  # the row is the default
    assert recipe["stages"] == [list(stage) for stage in config.stages]
    assert recipe["model"]["base_filters"] == config.model["base_filters"]
    assert (recipe["learning_rate"], recipe["batch_size"], recipe["jit_compile"]) == (
        config.learning_rate, config.batch_size, config.jit_compile)  # fmt: skip
    with pytest.raises(ValueError, match="lever must be one of"):
        levers._settings("faster")
