"""labutils.metrics against Keras, keras-cv, a hand-computed example and properties of IoU."""

import time

import numpy as np
import pytest

from labutils import bbox, metrics

SEEDS = range(4)
CLASS_COUNTS = range(2, 6)


def random_masks(seed: int, num_classes: int, shape=(2, 16, 16)):
    """Random truth labels and scores; about 30% of predicted pixels agree with the truth."""
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, num_classes, shape)  # (B, H, W) int64
    probs = rng.random(shape + (num_classes,))  # (B, H, W, C) float64
    probs += 0.5 * np.eye(num_classes)[y_true] * (rng.random(shape) < 0.3)[..., None]
    return y_true, probs / probs.sum(axis=-1, keepdims=True)


# --- a hand-computed example -----------------------------------------------------------------

# truth      prediction     class 0: TP 1, FP 1, FN 1 -> IoU 1/3, Dice 2/4
# 0 0 1      0 1 1          class 1: TP 2, FP 1, FN 0 -> IoU 2/3, Dice 4/5
# 1 2 2      1 2 0          class 2: TP 1, FP 0, FN 1 -> IoU 1/2, Dice 2/3
TINY_TRUE = [[0, 0, 1], [1, 2, 2]]
TINY_PRED = [[0, 1, 1], [1, 2, 0]]


def test_tiny_example_by_hand():
    cm = metrics.confusion_matrix(TINY_TRUE, TINY_PRED, 3)
    assert cm.dtype == np.int64
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
    np.testing.assert_allclose(
        metrics.iou_per_class(TINY_TRUE, TINY_PRED, 3), [1 / 3, 2 / 3, 1 / 2]
    )
    np.testing.assert_allclose(
        metrics.dice_per_class(TINY_TRUE, TINY_PRED, 3), [1 / 2, 4 / 5, 2 / 3]
    )
    assert metrics.mean_iou(TINY_TRUE, TINY_PRED, 3) == pytest.approx(1 / 2)
    assert metrics.mean_dice(TINY_TRUE, TINY_PRED, 3) == pytest.approx((1 / 2 + 4 / 5 + 2 / 3) / 3)
    assert metrics.pixel_accuracy(TINY_TRUE, TINY_PRED) == pytest.approx(4 / 6)


def test_binary_masks_iou_is_intersection_over_union():
    truth = np.zeros((10, 10), bool)
    truth[2:6, 2:6] = True  # 16 pixels
    pred = np.zeros((10, 10), bool)
    pred[4:8, 4:8] = True  # 16 pixels, 4 shared
    assert metrics.iou_per_class(truth, pred, 2)[1] == pytest.approx(4 / 28)
    assert metrics.dice_per_class(truth, pred, 2)[1] == pytest.approx(8 / 32)


# --- against Keras ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("num_classes", CLASS_COUNTS)
def test_matches_keras_iou_metrics(seed, num_classes):
    keras = pytest.importorskip("keras")
    y_true, probs = random_masks(seed, num_classes)
    y_pred = probs.argmax(axis=-1)
    reference = keras.metrics.MeanIoU(num_classes=num_classes)
    reference.update_state(y_true, y_pred)
    assert metrics.mean_iou(y_true, probs, num_classes) == pytest.approx(
        float(reference.result()), abs=1e-6
    )
    ours = metrics.iou_per_class(y_true, probs, num_classes)
    for c in range(num_classes):
        per_class = keras.metrics.IoU(num_classes=num_classes, target_class_ids=[c])
        per_class.update_state(y_true, y_pred)
        assert ours[c] == pytest.approx(float(per_class.result()), abs=1e-6)


def test_absent_class_is_nan_and_mean_skips_it_like_keras():
    keras = pytest.importorskip("keras")
    y_true = np.array([[0, 0, 1, 1]])
    y_pred = np.array([[0, 1, 1, 1]])  # class 2 appears nowhere
    ious = metrics.iou_per_class(y_true, y_pred, 3)
    assert np.isnan(ious[2])
    reference = keras.metrics.MeanIoU(num_classes=3)
    reference.update_state(y_true, y_pred)
    assert metrics.mean_iou(y_true, y_pred, 3) == pytest.approx(float(reference.result()))
    # Keras' per-class IoU reports 0 for the absent class where we report NaN (documented).
    absent = keras.metrics.IoU(num_classes=3, target_class_ids=[2])
    absent.update_state(y_true, y_pred)
    assert float(absent.result()) == 0.0


# --- ignoring a class (the pets' border, lesson 06) --------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("num_classes", (3, 4))
def test_ignore_class_matches_keras(seed, num_classes):
    keras = pytest.importorskip("keras")
    y_true, probs = random_masks(seed, num_classes)
    y_pred = probs.argmax(axis=-1)
    ignored = num_classes - 1
    others = [c for c in range(num_classes) if c != ignored]
    keras_mean = keras.metrics.MeanIoU(num_classes=num_classes, ignore_class=ignored)
    keras_mean.update_state(y_true, y_pred)
    cm = metrics.confusion_matrix(y_true, probs, num_classes, ignore_class=ignored)
    np.testing.assert_array_equal(cm, keras_mean.total_cm.numpy())
    assert cm.sum() == np.sum(y_true != ignored)  # the ignored truth is gone, nothing else
    assert cm[ignored].sum() == 0 and cm[:, ignored].sum() > 0  # still predicted elsewhere
    keras_others = keras.metrics.IoU(
        num_classes=num_classes, target_class_ids=others, ignore_class=ignored
    )
    keras_others.update_state(y_true, y_pred)
    ours = metrics.mean_iou(y_true, probs, num_classes, ignore_class=ignored)
    assert ours == pytest.approx(float(keras_others.result()), abs=1e-6)
    # MeanIoU(ignore_class) keeps the ignored class in its mean, with IoU 0 (documented).
    assert float(keras_mean.result()) == pytest.approx(ours * len(others) / num_classes, abs=1e-6)


def test_ignore_class_by_hand_counts_predictions_of_it_as_errors():
    # truth 0 2 1 1, prediction 0 0 2 1: the border pixel is dropped; the background pixel
    # predicted as border is a false negative of background: IoUs 1 and 1/2.
    truth, pred = [[0, 2, 1, 1]], [[0, 0, 2, 1]]
    assert metrics.mean_iou(truth, pred, 3, ignore_class=2) == pytest.approx(0.75)
    assert metrics.mean_iou(truth, pred, 3) < 0.75  # the border's own IoU is 0 here
    perfect_outside = [[0, 1, 1, 1]]  # wrong only on the ignored pixel
    assert metrics.mean_iou(truth, perfect_outside, 3, ignore_class=2) == 1.0


@pytest.mark.parametrize("bad", [3, -1, 1.5, True, "border"])
def test_bad_ignore_class_raises_a_clear_error(bad):
    with pytest.raises(ValueError, match="ignore_class"):
        metrics.mean_iou([[0, 1, 2]], [[0, 1, 2]], 3, ignore_class=bad)


# --- properties --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("num_classes", CLASS_COUNTS)
def test_properties_of_iou_and_dice(seed, num_classes):
    y_true, probs = random_masks(seed, num_classes)
    y_pred = probs.argmax(axis=-1)
    ious = metrics.iou_per_class(y_true, y_pred, num_classes)
    dice = metrics.dice_per_class(y_true, y_pred, num_classes)
    assert np.all((ious >= 0) & (ious <= 1))
    np.testing.assert_allclose(dice, 2 * ious / (1 + ious))
    np.testing.assert_allclose(metrics.iou_per_class(y_pred, y_true, num_classes), ious)
    cm = metrics.confusion_matrix(y_true, y_pred, num_classes)
    assert cm.sum() == y_true.size
    np.testing.assert_array_equal(
        cm.sum(axis=1), np.bincount(y_true.ravel(), minlength=num_classes)
    )
    np.testing.assert_array_equal(metrics.confusion_matrix(y_pred, y_true, num_classes), cm.T)
    assert metrics.pixel_accuracy(y_true, probs) == pytest.approx(np.trace(cm) / cm.sum())


def test_confusion_matrices_add_up_over_a_dataset():
    batches = [random_masks(seed, 4) for seed in SEEDS]  # (y_true, probs) per batch
    total = sum(metrics.confusion_matrix(y_true, probs, 4) for y_true, probs in batches)
    all_true = np.concatenate([y_true for y_true, _ in batches])
    all_probs = np.concatenate([probs for _, probs in batches])
    np.testing.assert_allclose(
        metrics.iou_from_confusion(total), metrics.iou_per_class(all_true, all_probs, 4)
    )
    np.testing.assert_allclose(
        metrics.dice_from_confusion(total), metrics.dice_per_class(all_true, all_probs, 4)
    )
    assert np.isnan(metrics.iou_from_confusion(np.diag([3, 0]))[1])  # class 1 never seen


@pytest.mark.parametrize("num_classes", CLASS_COUNTS)
def test_perfect_prediction_scores_one(num_classes):
    y_true, _ = random_masks(0, num_classes)
    one_hot = np.eye(num_classes)[y_true]  # (B, H, W, C): argmax gives back the labels
    assert np.all(np.diag(metrics.confusion_matrix(y_true, one_hot, num_classes)) > 0)
    np.testing.assert_array_equal(metrics.iou_per_class(y_true, one_hot, num_classes), 1.0)
    assert metrics.mean_iou(y_true, y_true, num_classes) == 1.0
    assert metrics.mean_dice(y_true, one_hot, num_classes) == 1.0
    assert metrics.pixel_accuracy(y_true, one_hot) == 1.0


def test_accepted_input_forms_give_the_same_answer():
    tf = pytest.importorskip("tensorflow")
    y_true, probs = random_masks(1, 3)
    expected = metrics.confusion_matrix(y_true, probs, 3)
    y_pred = probs.argmax(axis=-1)
    forms = [
        (y_true[..., None], probs),  # (B, H, W, 1) truth vs scores
        (y_true[..., None], y_pred),  # (B, H, W, 1) vs (B, H, W)
        (y_true, y_pred[..., None]),
        (y_true.astype(np.float32), y_pred.astype(np.float64)),  # whole-number floats
        (y_true.tolist(), y_pred.tolist()),
        (tf.constant(y_true, tf.int32), tf.constant(probs, tf.float32)),
    ]
    for truth, pred in forms:
        np.testing.assert_array_equal(metrics.confusion_matrix(truth, pred, 3), expected)


def test_boolean_masks_are_labels():
    truth = np.array([True, True, False, False])
    pred = np.array([True, False, False, False])
    np.testing.assert_allclose(metrics.iou_per_class(truth, pred, 2), [2 / 3, 1 / 2])


def test_pixel_accuracy_tells_label_images_from_scores():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, (4, 5, 3))  # an (H, W, 3) label image, not scores
    assert metrics.pixel_accuracy(labels, labels) == 1.0
    truth = labels[..., 0]  # (H, W): now the same (H, W, 3) array is scores
    assert metrics.pixel_accuracy(truth, np.eye(3)[truth]) == 1.0
    assert metrics.pixel_accuracy(truth, labels) == pytest.approx(
        np.mean(labels.argmax(-1) == truth)
    )


def test_ten_million_pixels_take_well_under_seconds():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 3, (10, 1000, 1000), dtype=np.uint8)
    y_pred = rng.integers(0, 3, (10, 1000, 1000), dtype=np.uint8)
    start = time.perf_counter()
    cm = metrics.confusion_matrix(y_true, y_pred, 3)
    assert time.perf_counter() - start < 5  # about 0.3 s on one CPU core
    assert cm.sum() == 10_000_000


# --- bad input: each error says what was expected ----------------------------------------------


@pytest.mark.parametrize(
    ("y_true", "y_pred", "num_classes", "expected_words"),
    [
        ([[0, 1]], [[0, 1, 1]], 2, ["shape (1, 2)", "shape (1, 3)", "same shape"]),
        ([[0, 1]], [[0, 2]], 2, ["labels from 0 to 2", "[0, 2)"]),
        ([[0, -1]], [[0, 1]], 2, ["y_true has labels from -1 to 0", "[0, 2)"]),
        ([[0, 1]], [[0.3, 0.7]], 2, ["0.3", "looks like probabilities", "length C = 2"]),
        ([[0.5, 1]], [[0, 1]], 2, ["y_true", "looks like probabilities"]),
        ([[0, 1]], np.ones((1, 2, 3)) / 3, 2, ["length 3", "num_classes=2"]),
        ([[0, 1]], [[0, 1]], 1, ["num_classes must be >= 2", "got 1"]),
        ([[0, 1]], [[0, 1]], 2.0, ["num_classes must be an integer"]),
        ([], [], 2, ["y_true is empty", "at least one pixel"]),
        ([[0, 1]], [[0, np.nan]], 2, ["NaN", "expected integer class labels"]),
        ([[0, 1]], [[[0.5, np.nan], [1, 0]]], 2, ["NaN", "expected finite scores"]),
        ([["a", "b"]], [[0, 1]], 2, ["dtype", "expected integer class labels"]),
    ],
)
def test_bad_masks_raise_clear_errors(y_true, y_pred, num_classes, expected_words):
    for function in (metrics.confusion_matrix, metrics.iou_per_class, metrics.mean_dice):
        with pytest.raises(ValueError) as error:
            function(y_true, y_pred, num_classes)
        for words in expected_words:
            assert words in str(error.value)


def test_pixel_accuracy_errors_say_what_was_expected():
    with pytest.raises(ValueError, match="looks like probabilities"):
        metrics.pixel_accuracy([0, 1, 1], [0.2, 0.9, 0.6])
    with pytest.raises(ValueError, match=r"expected labels of the same shape, or scores"):
        metrics.pixel_accuracy(np.zeros((4, 4)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="y_pred is empty"):
        metrics.pixel_accuracy([0], [])


# --- box IoU -----------------------------------------------------------------------------------


def random_boxes(rng, n):
    """(n, 4) xyxy boxes with positive width and height, corners in [0, 100)."""
    x = np.sort(rng.uniform(0, 100, (n, 2)), axis=1)
    y = np.sort(rng.uniform(0, 100, (n, 2)), axis=1)
    return np.stack([x[:, 0], y[:, 0], x[:, 1], y[:, 1]], axis=1)


@pytest.mark.parametrize("seed", SEEDS)
def test_box_iou_matches_keras_cv(seed):
    keras_cv = pytest.importorskip("keras_cv")
    rng = np.random.default_rng(seed)
    boxes_a, boxes_b = random_boxes(rng, 7), random_boxes(rng, 5)
    reference = keras_cv.bounding_box.compute_iou(
        boxes_a.astype(np.float32), boxes_b.astype(np.float32), bounding_box_format="xyxy"
    )
    ours = bbox.box_iou(boxes_a, boxes_b)
    assert ours.shape == (7, 5)
    np.testing.assert_allclose(ours, np.asarray(reference), atol=1e-5)
    assert np.any(ours == 0) and np.any(ours > 0.1)  # both overlapping and disjoint pairs


def test_box_iou_by_hand_and_special_cases():
    assert bbox.box_iou([0, 0, 10, 10], [5, 5, 15, 15]) == pytest.approx(25 / 175)
    assert bbox.box_iou([0, 0, 10, 10], [0, 0, 10, 10]) == 1.0
    assert bbox.box_iou([0, 0, 10, 10], [2, 2, 4, 4]) == pytest.approx(4 / 100)  # inside
    assert bbox.box_iou([0, 0, 10, 10], [10, 0, 20, 10]) == 0.0  # touching edges
    assert bbox.box_iou([0, 0, 10, 10], [20, 20, 30, 30]) == 0.0  # far apart
    assert bbox.box_iou([0, 0, 10, 10], [3, 3, 3, 8]) == 0.0  # zero-area box
    assert bbox.box_iou([3, 3, 3, 3], [3, 3, 3, 3]) == 0.0  # union 0: defined as 0


def test_box_iou_shapes_follow_single_or_many_boxes():
    box, boxes_a, boxes_b = [0, 0, 10, 10], np.zeros((3, 4)), np.zeros((2, 4))
    assert isinstance(bbox.box_iou(box, box), float)
    assert bbox.box_iou(box, boxes_b).shape == (2,)
    assert bbox.box_iou(boxes_a, box).shape == (3,)
    assert bbox.box_iou(boxes_a, boxes_b).shape == (3, 2)
    assert bbox.box_iou([box], [box]).shape == (1, 1)


@pytest.mark.parametrize("seed", SEEDS)
def test_box_iou_is_symmetric_and_bounded(seed):
    rng = np.random.default_rng(seed)
    boxes_a, boxes_b = random_boxes(rng, 6), random_boxes(rng, 4)
    ious = bbox.box_iou(boxes_a, boxes_b)
    np.testing.assert_allclose(bbox.box_iou(boxes_b, boxes_a), ious.T)
    assert np.all((ious >= 0) & (ious <= 1))
    np.testing.assert_allclose(np.diag(bbox.box_iou(boxes_a, boxes_a)), 1.0)


@pytest.mark.parametrize(
    ("boxes", "expected_words"),
    [
        ([0, 0, 10], ["shape (3,)", "(x_min, y_min, x_max, y_max)"]),
        (np.zeros((2, 2, 4)), ["shape (2, 2, 4)", "(N, 4)"]),
        (np.zeros((0, 4)), ["empty", "at least one box"]),
        ([10, 0, 0, 10], ["x_max < x_min", "[10.0, 0.0, 0.0, 10.0]"]),
        ([[0, 0, 1, 1], [0, 5, 1, 2]], ["y_max < y_min", "[0.0, 5.0, 1.0, 2.0]"]),
        ([0, 0, np.inf, 1], ["NaN or infinity", "finite"]),
    ],
)
def test_bad_boxes_raise_clear_errors(boxes, expected_words):
    for args in ((boxes, [0, 0, 1, 1]), ([0, 0, 1, 1], boxes)):
        with pytest.raises(ValueError) as error:
            bbox.box_iou(*args)
        for words in expected_words:
            assert words in str(error.value)


# --- per-image mean IoU (lesson 06) ------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_mean_iou_per_image_is_mean_iou_of_each_image(seed):
    y_true, probs = random_masks(seed, 3, shape=(5, 12, 12))
    y_true[0] = np.where(y_true[0] == 2, 1, y_true[0])  # image 0 has no class 2 in its truth
    per_image = metrics.mean_iou_per_image(y_true, probs, 3)
    expected = [metrics.mean_iou(t, p, 3) for t, p in zip(y_true, probs, strict=True)]
    assert per_image.shape == (5,) and per_image.dtype == np.float64
    np.testing.assert_allclose(per_image, expected)


def test_mean_iou_per_image_by_hand_skips_classes_absent_from_an_image():
    y_true = np.array([TINY_TRUE, [[1, 1, 1], [1, 0, 0]]])[..., None]  # (2, 2, 3, 1)
    y_pred = np.array([TINY_PRED, [[1, 1, 1], [1, 0, 1]]])
    # image 1: class 0 IoU 1/2, class 1 IoU 4/5, class 2 absent from both -> skipped
    np.testing.assert_allclose(
        metrics.mean_iou_per_image(y_true, y_pred, 3), [(1 / 3 + 2 / 3 + 1 / 2) / 3, 0.65]
    )


def test_mean_iou_per_image_wants_a_batch():
    with pytest.raises(ValueError, match=r"expected a batch of masks \(N, H, W\)"):
        metrics.mean_iou_per_image(TINY_TRUE, TINY_PRED, 3)
