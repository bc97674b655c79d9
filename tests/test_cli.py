"""Tests for the command line, python -m labutils train | evaluate."""

import json
import subprocess
import sys
from pathlib import Path

import keras
import pytest

from labutils import evaluation, splits
from labutils.__main__ import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
TINY_TRAIN = [
    "train", "--data", "synthetic", "--img-size", "32", "--base-filters", "4", "--depth", "2",
    "--epochs", "1", "--time-budget", "0", "--batch-size", "4",
    "--train-split", "train[:8]", "--val-split", "train[8:12]", "--test-split", "test[:4]",
]  # fmt: skip


def one_line_error(capsys: pytest.CaptureFixture) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("error: ")
    return err[-1]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "tiny.keras"
    assert main([*TINY_TRAIN, "--out", str(out)]) == 0
    return out


def test_train_writes_the_model_and_a_report(trained: Path):
    model = keras.models.load_model(trained, compile=False)
    assert model.input_shape == (None, 32, 32, 3) and model.output_shape == (None, 32, 32, 3)
    report = json.loads(trained.with_suffix(".json").read_text())
    assert report["config"]["model"]["base_filters"] == 4
    assert report["config"]["time_budget_min"] is None and report["epochs_done"] == 1
    assert report["images"] == {"train": 8, "validation": 4}
    assert set(report["validation"]) >= {"miou", "iou_per_class", "mean_dice", "pixel_accuracy"}
    assert len(report["history"]["val_miou"]) == 1 and report["wall_seconds"] > 0
    splits = {"train": "train[:8]", "validation": "train[8:12]", "test": "test[:4]"}
    assert report["splits"] == splits
    assert report["test"]["images"] == 4 and 0 <= report["test"]["miou"] <= 1
    tta = report["test_time_augmentation"]  # the way with the best validation mIoU
    assert report["validation"]["miou"] == tta["validation_miou"][tta["kept"]]
    assert report["validation"]["miou"] == max(tta["validation_miou"].values())
    assert report["history"]["image_size"] == [16]  # its one epoch: the first stage, half size


def test_evaluate_prints_one_json_object(trained: Path, capsys: pytest.CaptureFixture):
    args = ["evaluate", "--model", str(trained), "--data", "synthetic", "--split", "test[:5]"]
    assert main([*args, "--eval-size", "48"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"miou", "iou_per_class", "mean_dice", "pixel_accuracy", "images"}
    assert result["images"] == 5 and 0 <= result["miou"] <= 1
    assert list(result["iou_per_class"]) == ["pet", "background", "border"]


def test_evaluate_scores_with_the_test_time_augmentation_asked_for(trained: Path, capsys):
    args = ["evaluate", "--model", str(trained), "--data", "synthetic", "--split", "test[:5]"]
    assert main([*args, "--tta", "flip+scales"]) == 0
    assert 0 <= json.loads(capsys.readouterr().out)["miou"] <= 1
    with pytest.raises(SystemExit):  # argparse names the choices
        main([*args, "--tta", "rotate"])
    assert "invalid choice: 'rotate'" in capsys.readouterr().err
    [subcommands] = [a for a in build_parser()._actions if a.choices and "evaluate" in a.choices]
    [tta] = [a for a in subcommands.choices["evaluate"]._actions if a.dest == "tta"]
    assert tuple(tta.choices) == evaluation.TTA  # the parser's copy, kept free of TensorFlow


def test_evaluate_refuses_a_missing_model(tmp_path: Path, capsys: pytest.CaptureFixture):
    code = main(["evaluate", "--model", str(tmp_path / "none.keras"), "--data", "synthetic"])
    assert code == 1 and "No model file" in one_line_error(capsys)


def test_evaluate_refuses_a_file_that_is_not_a_model(tmp_path, capsys):
    bogus = tmp_path / "bogus.keras"
    bogus.write_text("not a model")
    assert main(["evaluate", "--model", str(bogus), "--data", "synthetic"]) == 1
    assert "not a Keras model" in one_line_error(capsys)


def test_evaluate_refuses_a_model_of_another_task(tmp_path, capsys):
    path = tmp_path / "classifier.keras"
    inputs = keras.Input((8, 8, 3))
    keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Flatten()(inputs))).save(path)
    assert main(["evaluate", "--model", str(path), "--data", "synthetic"]) == 1
    assert "expected a segmentation model" in one_line_error(capsys)


def test_empty_split_and_bad_output_name_fail_with_one_line(tmp_path, capsys):
    out = str(tmp_path / "m.keras")
    assert main([*TINY_TRAIN[:-4], "--train-split", "train[:0]", "--out", out]) == 1
    assert "no images" in one_line_error(capsys)
    assert main([*TINY_TRAIN[:-4], "--train-split", "train[:0]", "--stream", "--out", out]) == 1
    assert "no images" in one_line_error(capsys)
    assert main([*TINY_TRAIN, "--out", str(tmp_path / "m.h5")]) == 1
    assert ".keras" in one_line_error(capsys)


def test_train_streams_with_stream(tmp_path: Path):
    out = tmp_path / "streamed.keras"
    assert main([*TINY_TRAIN, "--stream", "--out", str(out)]) == 0
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["streamed"] is True and report["images"] == {"train": 8, "validation": 4}
    assert report["validation"]["images"] == 4 and report["steps"] == 2


def test_train_defaults_to_the_course_protocol_and_never_validates_on_test():
    args = build_parser().parse_args(["train", "--out", "m.keras"])
    assert (args.train_split, args.val_split, args.test_split) == (
        splits.TRAIN_SPLIT,
        splits.VAL_SPLIT,
        splits.TEST_SPLIT,
    )
    assert args.val_split.startswith("train") and "test" not in args.val_split


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--lr", "-1", "expected a positive number, got -1"),
        ("--lr", "0", "expected a positive number, got 0"),
        ("--time-budget", "-5", "expected minutes >= 0"),
        ("--stages", "2:0.5", "expected SCALE:UNTIL pairs"),
        ("--stages", "0.5:0.8,0.75:0.5", "expected SCALE:UNTIL pairs"),
        ("--stages", "half", "expected SCALE:UNTIL pairs"),
        ("--batch-size", "-4", "expected a positive integer, got -4"),
    ],
)
def test_train_refuses_numbers_out_of_range_in_one_line(option, value, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["train", "--out", "m.keras", option, value])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [("--img-size", "30", "image_size must be a positive multiple of 2**depth = 4"),
     ("--val-split", "train[5:5]", "The validation split 'train[5:5]' holds no images"),
     ("--test-split", "test[:0]", "The test split 'test[:0]' holds no images")],
)  # fmt: skip
def test_train_checks_every_argument_before_decoding_a_photo(option, value, message, capsys):
    assert main([*TINY_TRAIN, option, value, "--out", "never.keras"]) == 1
    err = capsys.readouterr().err
    assert message in err and "images decoded" not in err  # failed before any decoding


def test_train_help_shows_the_recipes_own_defaults(capsys):
    from labutils import training

    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    config = training.TrainConfig()
    assert f"peak learning rate (default {config.learning_rate:g})" in text
    assert f"(default {config.batch_size}, {training.GPU_BATCH_SIZE} on a GPU)" in text


def test_bad_arguments_exit_with_usage():
    parser = build_parser()
    for argv in (["train"], ["evaluate"], ["train", "--out", "m.keras", "--epochs", "0"], []):
        with pytest.raises(SystemExit) as exit_info:
            parser.parse_args(argv)
        assert exit_info.value.code == 2


def run_module(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "labutils", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_module_entry_point_evaluates_in_a_fresh_interpreter(trained: Path):
    done = run_module("evaluate", "--model", str(trained), "--data", "synthetic", "--split",
                      "test[:3]", "--eval-size", "24")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["images"] == 3


def test_module_entry_point_reports_errors_in_one_line(tmp_path: Path):
    missing = tmp_path / "missing.keras"
    done = run_module("evaluate", "--model", str(missing))
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"error: No model file at {missing}: train one with 'python -m labutils train "
        "--out MODEL.keras' first."
    ]


# --- a quiet start: no TensorFlow C++ start-up lines unless TF_CPP_MIN_LOG_LEVEL is set ------
STARTUP_NOISE = ("absl::InitializeLog", "oneDNN custom operations", "cuda", "cpu_feature_guard")


def run_cli(args: list[str], log_level: str | None) -> subprocess.CompletedProcess:
    import os

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    if log_level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = log_level
    return subprocess.run([sys.executable, "-m", "labutils", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_train_starts_quietly_and_shows_progress(tmp_path: Path):
    run = run_cli([*TINY_TRAIN, "--out", str(tmp_path / "quiet.keras")], log_level=None)
    assert run.returncode == 0, run.stderr[-2000:]
    noise = [line for line in run.stderr.splitlines() if any(n in line for n in STARTUP_NOISE)]
    assert not noise, noise
    assert "images decoded" in run.stderr  # decoding progress
    assert "epoch 1:" in run.stderr and "val_miou" in run.stderr  # one line per epoch
    assert "Saved the model" in run.stderr


def test_a_users_tf_cpp_min_log_level_is_respected(trained: Path):
    args = ["evaluate", "--model", str(trained), "--data", "synthetic", "--split", "test[:2]"]
    run = run_cli(args, log_level="0")  # the user asked for everything
    assert run.returncode == 0, run.stderr[-2000:]
    assert any(n in run.stderr for n in STARTUP_NOISE), "the user's log level was overridden"
    assert json.loads(run.stdout)["images"] == 2


def test_train_on_a_gpu_defaults_to_mixed_float16_bigger_batches_and_the_gpu_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from tests.test_training import fake_gpus  # fakes only TensorFlow's device query

    fake_gpus(monkeypatch, (7, 5))  # a T4
    dropped = {"--time-budget", "--batch-size"}  # and their values: the defaults decide
    args = [a for i, a in enumerate(TINY_TRAIN) if dropped.isdisjoint(TINY_TRAIN[i - 1 : i + 1])]
    assert main([*args, "--out", str(tmp_path / "gpu.keras")]) == 0
    report = json.loads((tmp_path / "gpu.json").read_text())
    assert report["dtype_policy"] == "mixed_float16"
    assert report["config"]["batch_size"] == 64 and report["time_budget_min"] == 60


def test_train_on_a_cpu_keeps_the_cpu_budget_by_default():
    args = build_parser().parse_args(["train", "--out", "x.keras"])
    assert args.time_budget is None  # resolved at run time: 14 minutes on a CPU, 60 on a GPU
    from labutils import training

    assert training.TrainConfig.for_device("cpu").batch_size == 16


def test_train_prints_the_recipe_a_bfloat16_cpu_gets(capsys: pytest.CaptureFixture):
    from labutils import training
    from labutils.cli.train import print_choices

    print_choices(training.TrainConfig.for_device("cpu", precision="mixed_bfloat16"))
    said = capsys.readouterr().err
    assert said.startswith("Computing in mixed_bfloat16")
    assert "16 filters wide, training at 64² to 50%, 96² to 80%, then 128²" in said
