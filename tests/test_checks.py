"""labutils.checks: each checker accepts the right answer, diagnoses the usual mistakes and
says "not answered yet" for the student edition's None."""

import numpy as np
import pytest

from labutils import checks, metrics

# --- lesson 02: per-class IoU --------------------------------------------------------------------

Y_TRUE = np.array([[0, 0, 1, 1], [0, 2, 2, 1], [1, 1, 2, 2]])  # (3, 4) labels 0..2
Y_PRED = np.array([[0, 1, 1, 1], [0, 0, 2, 2], [1, 1, 1, 2]])


def by_hand(denominator):
    """IoU-like ratios per class computed the way a student would, with a chosen denominator."""
    values = []
    for c in range(3):
        p, g = Y_PRED == c, Y_TRUE == c
        values.append((p & g).sum() / denominator(p, g))
    return values


def test_per_class_iou_accepts_the_right_answer(capsys):
    ious = by_hand(lambda p, g: (p | g).sum())
    assert checks.check_per_class_iou(ious, Y_TRUE, Y_PRED)
    assert checks.check_per_class_iou(np.float32(ious), Y_TRUE, Y_PRED)  # float32 rounding
    assert "✅" in capsys.readouterr().out


def test_per_class_iou_not_answered(capsys):
    assert not checks.check_per_class_iou(None, Y_TRUE, Y_PRED)
    assert "not answered yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "expected_words"),
    [
        (by_hand(lambda p, g: p.sum() + g.sum()), "counts the intersection twice"),
        (2 * np.array(by_hand(lambda p, g: p.sum() + g.sum())), "Dice"),
        (by_hand(lambda p, g: g.sum()), "recall"),
        (by_hand(lambda p, g: p.sum()), "precision"),
        (by_hand(lambda p, g: (p | g).sum())[::-1], "reverse order"),
        (metrics.mean_iou(Y_TRUE, Y_PRED, 3), "that is the mean IoU"),
        ([0.5, 0.5], "expected 3 numbers"),
        ("0.5", "expected 3 numbers"),
        ([0.99, 0.99, 0.99], "wrong for class 0, 1, 2"),
    ],
)
def test_per_class_iou_names_the_mistake(capsys, answer, expected_words):
    assert not checks.check_per_class_iou(answer, Y_TRUE, Y_PRED)
    out = capsys.readouterr().out
    assert "❌" in out and expected_words in out and "Hint:" in out


# --- lesson 01: masks ---------------------------------------------------------------------------


def box_mask() -> np.ndarray:
    """A 6x8 mask whose True pixels span rows 1..3 and columns 2..6: box (2, 1, 7, 4)."""
    mask = np.zeros((6, 8), dtype=bool)
    mask[1, 2] = mask[3, 6] = mask[2, 4] = True
    return mask


@pytest.mark.parametrize("answer", [(2, 1, 7, 4), [2, 1, 7, 4], np.array([2, 1, 7, 4])])
def test_check_mask_box_accepts_xyxy_with_the_far_edges_one_past(answer, capsys):
    assert checks.check_mask_box(answer, box_mask())
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ((1, 2, 4, 7), "swapped"),
        ((2, 1, 6, 3), "stop at the last True pixel"),
        ((2, 1, 5, 3), "width, height"),
        ((2, 0, 7, 4), "wrong: y_min."),
        ((3, 1, 7, 5), "wrong: x_min, y_max."),
        ((2, 1, 7), "4 numbers"),
    ],
)
def test_check_mask_box_names_the_mistake(answer, says, capsys):
    assert not checks.check_mask_box(answer, box_mask())
    assert says in capsys.readouterr().out


def test_check_mask_box_on_an_empty_mask_says_there_is_no_box(capsys):
    assert not checks.check_mask_box((0, 0, 0, 0), np.zeros((4, 4), bool))
    assert "no True pixel" in capsys.readouterr().out


def test_check_mask_box_rejects_a_mask_with_a_channel_axis():
    with pytest.raises(ValueError, match=r"mask\[\.\.\., 0\]"):
        checks.check_mask_box((2, 1, 7, 4), box_mask()[..., None])


def test_checkers_report_the_stub_as_not_answered(capsys):
    mask = box_mask()
    assert not checks.check_mask_box(None, mask)
    assert not checks.check_mask_disagreement(None, mask, mask)
    assert not checks.check_masked_mean(None, np.ones(mask.shape), mask)
    assert capsys.readouterr().out.count("not answered yet") == 3


def two_masks() -> tuple[np.ndarray, np.ndarray]:
    """Masks with 3 pixels only in a, 1 only in b, 2 in both: 4 disagreements (by hand)."""
    a = np.array([[1, 1, 1, 1, 1, 0, 0]], dtype=bool)
    b = np.array([[0, 0, 0, 1, 1, 1, 0]], dtype=bool)
    return a, b


@pytest.mark.parametrize("answer", [4, np.int64(4), 4.0])
def test_check_mask_disagreement_accepts_the_xor_count(answer, capsys):
    assert checks.check_mask_disagreement(answer, *two_masks())
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [(3, "mask_a alone"), (1, "mask_b alone"), (2, "agree"), (5, "not the number")],
)
def test_check_mask_disagreement_names_the_mistake(answer, says, capsys):
    assert not checks.check_mask_disagreement(answer, *two_masks())
    assert says in capsys.readouterr().out


def test_check_mask_disagreement_asks_for_a_count_not_a_mask(capsys):
    a, b = two_masks()
    assert not checks.check_mask_disagreement(a ^ b, a, b)
    assert "one number" in capsys.readouterr().out


def test_check_mask_disagreement_rejects_masks_of_different_shapes():
    with pytest.raises(ValueError, match="one shape"):
        checks.check_mask_disagreement(0, np.zeros((2, 3)), np.zeros((3, 2)))


def losses_and_keep() -> tuple[np.ndarray, np.ndarray]:
    """Losses 1, 2, 3, 10 with the last pixel ignored: masked mean 2, plain mean 4 (by hand)."""
    return np.array([[1.0, 2.0], [3.0, 10.0]]), np.array([[True, True], [True, False]])


@pytest.mark.parametrize("answer", [2.0, np.float32(2.0), np.array(2.0), 2.0001])
def test_check_masked_mean_accepts_the_mean_over_kept_pixels(answer, capsys):
    assert checks.check_masked_mean(answer, *losses_and_keep())
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (4.0, "all pixels: the ignored"),
        (1.5, "divides by all pixels"),
        (10.0, "ignored pixels"),
        (2.01, "not the mean"),
    ],
)
def test_check_masked_mean_names_the_mistake(answer, says, capsys):
    assert not checks.check_masked_mean(answer, *losses_and_keep())
    assert says in capsys.readouterr().out


def test_check_masked_mean_rejects_a_mask_that_keeps_nothing():
    with pytest.raises(ValueError, match="keeping at least one pixel"):
        checks.check_masked_mean(1.0, np.ones((2, 2)), np.zeros((2, 2), bool))


# --- lesson 03: the dataset and its pipeline ------------------------------------------------------

PIXEL_COUNTS_03 = np.array([[10, 80, 10], [120, 60, 20]])  # (N, 3): background 140 of 300 px


@pytest.mark.parametrize(
    ("answer", "verdict", "says"),
    [
        (140 / 300, True, "correct"),
        (np.float32(140 / 300), True, "correct"),
        (100 * 140 / 300, False, "percentage"),
        ((80 / 100 + 60 / 200) / 2, False, "per-image"),
        (130 / 300, False, "share of pet pixels"),
        (0.3, False, "not the accuracy of that model"),
        ([0.5, 0.5], False, "one number"),
        (None, False, "not answered"),
    ],
)
def test_check_background_accuracy(capsys, answer, verdict, says):
    assert bool(checks.check_background_accuracy(answer, PIXEL_COUNTS_03)) is verdict
    assert says in capsys.readouterr().out


def test_check_resize_mask_accepts_nearest_neighbour_from_tf_and_opencv(capsys):
    import cv2
    import tensorflow as tf

    assert checks.check_resize_mask(lambda m, s: tf.image.resize(m, s, method="nearest"))
    assert checks.check_resize_mask(
        lambda m, s: cv2.resize(m, s[::-1], interpolation=cv2.INTER_NEAREST)[..., None]
    )
    assert capsys.readouterr().out.count("correct") == 2


@pytest.mark.parametrize(
    ("make_resize", "says"),
    [
        (lambda tf: lambda m, s: tf.image.resize(m, s), "not labels"),
        (lambda tf: lambda m, s: tf.round(tf.image.resize(m, s)), "nowhere near"),
        (lambda tf: lambda m, s: tf.image.resize(m, s, method="nearest")[..., 0], "shape"),
        (lambda tf: lambda m, s: tf.image.resize(m, s[::-1], method="nearest"), "shape"),
    ],
    ids=["bilinear", "rounded bilinear", "channel dropped", "height and width swapped"],
)
def test_check_resize_mask_catches_invented_labels_and_bad_shapes(capsys, make_resize, says):
    import tensorflow as tf

    assert not checks.check_resize_mask(make_resize(tf))
    assert says in capsys.readouterr().out


def test_check_resize_mask_not_answered(capsys):
    assert not checks.check_resize_mask(None)
    assert "not answered" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("make_resize", "says"),
    [
        (lambda tf: lambda m, s: tf.image.resize(m, s, method="closest"), "raised ValueError"),
        (
            lambda tf: lambda m, s: tf.reshape(tf.image.resize(m, s), (s[0] + 1, s[1], 1)),
            "raised InvalidArgumentError",
        ),
        (lambda tf: "nearest", "expected a function"),
    ],
    ids=["unknown method", "TensorFlow error", "not a function"],
)
def test_check_resize_mask_reports_a_function_that_raises_in_one_line(capsys, make_resize, says):
    import tensorflow as tf

    assert not checks.check_resize_mask(make_resize(tf))
    problem = capsys.readouterr().out.splitlines()[0]  # the verdict line; the hint follows
    assert problem.startswith("❌") and says in problem


@pytest.mark.parametrize(
    ("steps", "verdict", "says"),
    [
        (["map", "cache", "shuffle", "batch", "prefetch"], True, "correct"),
        (["Map", "cache ", "shuffle", "batch", "PREFETCH"], True, "correct"),
        (["cache", "map", "shuffle", "batch", "prefetch"], False, "resizing runs every epoch"),
        (["map", "shuffle", "cache", "batch", "prefetch"], False, "freezes the first epoch"),
        (["map", "cache", "batch", "shuffle", "prefetch"], False, "whole batches"),
        (["prefetch", "map", "cache", "shuffle", "batch"], False, "prefetch goes last"),
        (["map", "cache", "shuffle", "batch"], False, "each of"),
        (None, False, "not answered"),
    ],
)
def test_check_pipeline_order(capsys, steps, verdict, says):
    assert bool(checks.check_pipeline_order(steps)) is verdict
    assert says in capsys.readouterr().out


# --- lesson 04: training a U-Net ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "verdict", "says"),
    [
        ((5, 96, 96, 4), True, "correct"),
        ([5, 96, 96, 4], True, "correct"),
        (np.array([5, 96, 96, 4]), True, "correct"),
        ((5, 96, 96, 3), False, "one per colour"),
        ((5, 96, 96), False, "after argmax"),
        ((5, 96, 96, 1), False, "one per class"),
        ((96, 96, 4), False, "batch axis is missing"),
        ((None, 96, 96, 4), False, "holds 5 images"),
        ((5, 12, 12, 4), False, "bottleneck"),
        ((5, 48, 48, 4), False, "does not give (5, 48, 48, 4)"),
        ("5x96x96x4", False, "expected a tuple of integers"),
        (None, False, "not answered yet"),
    ],
)
def test_check_unet_output_shape(capsys, answer, verdict, says):
    assert bool(checks.check_unet_output_shape(answer, 5, 96, 4, depth=3)) is verdict
    assert says in capsys.readouterr().out


def test_check_unet_output_shape_agrees_with_a_real_unet(capsys):
    from labutils.models import build_unet

    model = build_unet(image_size=32, num_classes=4, base_filters=2, depth=2)
    shape = model.predict(np.zeros((3, 32, 32, 3), np.float32), verbose=0).shape
    assert checks.check_unet_output_shape(shape, 3, 32, 4, depth=2)


# The first convolution after the original U-Net's bottleneck: 512 up-sampled + 256 skip channels.
CONV = {"kernel_size": 3, "in_channels": 768, "filters": 256, "skip_channels": 256}


@pytest.mark.parametrize(
    ("answer", "verdict", "says"),
    [
        (1_769_728, True, "correct"),
        (np.int64(1_769_728), True, "correct"),
        (1_769_472, False, "forgets the biases"),
        (1_179_904, False, "concatenation"),
        (590_080, False, "9 weights per input channel"),
        (2_560, False, "one kernel per input channel"),
        (1_769_473, False, "one bias per filter"),
        (123, False, "not the number of weights plus biases"),
        ([1, 2], False, "expected one number"),
        (None, False, "not answered yet"),
    ],
)
def test_check_conv_parameters(capsys, answer, verdict, says):
    assert bool(checks.check_conv_parameters(answer, **CONV)) is verdict
    assert says in capsys.readouterr().out


def test_check_conv_parameters_agrees_with_keras(capsys):
    import keras

    layer = keras.layers.Conv2D(7, 5)
    layer.build((None, 16, 16, 6))
    assert checks.check_conv_parameters(layer.count_params(), 5, 6, 7)


# conv3 → conv3 → pool 2/2 → conv3 → conv3 → pool 2/2 → conv3, worked by hand from the output:
# 1 → 3 → 6 → 8 → 10 → 20 → 22 → 24.
STACK = [(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2), (3, 1)]


@pytest.mark.parametrize(
    ("answer", "verdict", "says"),
    [
        (24, True, "correct"),
        (24.0, True, "correct"),
        (30, False, "from the input to the output"),
        (13, False, "ignores the strides"),
        (40, False, "−1 is missing"),
        (25, False, "not the receptive field"),
        ("24 px", False, "expected one number"),
        (None, False, "not answered yet"),
    ],
)
def test_check_receptive_field(capsys, answer, verdict, says):
    assert bool(checks.check_receptive_field(answer, STACK)) is verdict
    assert says in capsys.readouterr().out


def test_check_receptive_field_agrees_with_the_gradient_of_a_linear_stack(capsys):
    """The receptive field is where the gradient of one output pixel is non-zero."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    stack = keras.Sequential(
        [keras.Input((64, 64, 1))]
        + [
            keras.layers.Conv2D(1, k, strides=s, padding="same", use_bias=False)
            if k == 3
            else keras.layers.AveragePooling2D(k, strides=s)
            for k, s in STACK
        ]
    )
    images = tf.random.uniform((1, 64, 64, 1))
    with tf.GradientTape() as tape:
        tape.watch(images)
        out = stack(images)[0, 8, 8, 0]  # a pixel far from the borders, aligned with the pools
    rows = np.flatnonzero(np.any(tape.gradient(out, images)[0, ..., 0].numpy() != 0, axis=1))
    assert checks.check_receptive_field(int(rows.max() - rows.min() + 1), STACK)


# --- Lesson 04 (building a U-Net): the blocks, written as a student would --------------------


def conv_block(x, filters, batch_norm=False, bias=None, relu_first=False, convs=2):
    from keras import layers

    for _ in range(convs):
        if batch_norm:
            relu = "relu" if relu_first else None
            x = layers.Conv2D(filters, 3, padding="same", use_bias=bool(bias), activation=relu)(x)
            x = layers.BatchNormalization(momentum=0.9)(x)
            if not relu_first:
                x = layers.Activation("relu")(x)
        else:
            x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    return x


def down_block(x, filters, batch_norm=False):
    from keras import layers

    skip = conv_block(x, filters, batch_norm)
    return skip, layers.MaxPooling2D(2)(skip)


def up_block(x, skip, filters, batch_norm=False, skip_first=False, with_skip=True):
    from keras import layers

    x = layers.UpSampling2D(2)(x)
    if with_skip:
        x = layers.Concatenate()([skip, x] if skip_first else [x, skip])
    return conv_block(x, filters, batch_norm)


def make_unet(head=1, head_activation=False, double=True, input_shape=None):
    """A student's unet(); the keywords plant one known mistake."""
    import keras
    from keras import layers

    def unet(image_size=64, num_classes=3, base_filters=64, depth=3, batch_norm=False):
        inputs = keras.Input(shape=input_shape or (image_size, image_size, 3))
        x, skips = inputs, []
        for level in range(depth):
            skip, x = down_block(x, base_filters * (2**level if double else 1), batch_norm)
            skips.append(skip)
        x = conv_block(x, base_filters * 2**depth, batch_norm)
        for level in reversed(range(depth)):
            x = up_block(x, skips[level], base_filters * 2**level, batch_norm)
        if head_activation:  # the softmax inside the head: the same model
            outputs = layers.Conv2D(num_classes, head, padding="same", activation="softmax")(x)
        else:
            x = layers.Conv2D(num_classes, head, padding="same")(x)
            outputs = layers.Activation("softmax")(x)
        return keras.Model(inputs, outputs)

    return unet


def test_block_checkers_accept_the_right_blocks(capsys):
    assert checks.check_conv_block(conv_block)
    assert checks.check_down_block(down_block)
    assert checks.check_up_block(up_block)
    assert capsys.readouterr().out.count("correct") == 3


@pytest.mark.parametrize("form", [{}, {"head_activation": True}])
def test_check_unet_accepts_a_right_unet_with_the_softmax_in_or_after_the_head(capsys, form):
    assert checks.check_unet(make_unet(**form))
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    "checker",
    [checks.check_conv_block, checks.check_down_block, checks.check_up_block, checks.check_unet],
)
def test_u_net_checkers_say_not_answered(capsys, checker):
    assert not checker(None)
    assert "not answered yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("checker", "answer", "says"),
    [
        (checks.check_conv_block, lambda x, f, batch_norm=False: conv_block(x, f, batch_norm, True),
         "needs no bias (use_bias=False)"),
        (checks.check_conv_block,
         lambda x, f, batch_norm=False: conv_block(x, f, batch_norm, relu_first=True),
         "the ReLU comes after it"),
        (checks.check_conv_block, lambda x, f, batch_norm=False: conv_block(x, f, convs=1),
         "stops after layer 0"),
        (checks.check_conv_block, lambda x, f, batch_norm=False: 1 / 0,
         "raised ZeroDivisionError"),
        (checks.check_conv_block, lambda x, f, batch_norm=False: np.zeros(3),
         "should return Keras tensors"),
        (checks.check_down_block, lambda x, f, batch_norm=False: down_block(x, f, batch_norm)[1],
         "should return two maps"),
        (checks.check_down_block,
         lambda x, f, batch_norm=False: down_block(x, f, batch_norm)[::-1],
         "expected the skip at (8, 8) first"),
        (checks.check_up_block,
         lambda x, s, f, batch_norm=False: up_block(x, s, f, batch_norm, skip_first=True),
         "in the order [up_sampled, skip]"),
        (checks.check_up_block,
         lambda x, s, f, batch_norm=False: up_block(x, s, f, batch_norm, with_skip=False),
         "the skip connection: Concatenate()"),
        (checks.check_unet, make_unet(head=3), "the U-Net paper classifies every pixel with a 1×1"),
        (checks.check_unet, make_unet(input_shape=(64, 64, 1, 3)),
         "img_size + (3,) adds a channel"),
        (checks.check_unet, make_unet(double=False), "the filters double at every level"),
        (checks.check_unet, lambda image_size=(256, 256, 1), **kwargs: image_size + (3,),
         "should return a keras.Model"),
    ],
)  # fmt: skip
def test_u_net_checkers_name_the_usual_mistakes(capsys, checker, answer, says):
    assert not checker(answer)
    out = capsys.readouterr().out
    assert "❌" in out and says in out


def test_check_unet_names_the_first_differing_layer_and_both_parameter_counts(capsys):
    assert not checks.check_unet(make_unet(head=3))
    out = capsys.readouterr().out
    # the original's defaults: 24 layers, then its 3×3 head (3·3·64·3 + 3 = 1,731 parameters)
    assert "layer 24 differs" in out and "1,731 parameters" in out and "195 parameters" in out
    assert "yours 7,784,579, build_unet's 7,783,043" in out


# --- Lesson 05 (training) -------------------------------------------------------------------------

HISTORY = {  # epoch 3 has the best val_miou, epoch 2 the lowest val_loss, epoch 4 the best miou
    "val_miou": [0.40, 0.55, 0.60, 0.58],
    "val_loss": [0.90, 0.50, 0.55, 0.60],
    "miou": [0.30, 0.50, 0.60, 0.70],
}


def test_check_best_epoch(capsys):
    assert checks.check_best_epoch(3, HISTORY)
    assert "correct" in capsys.readouterr().out
    for answer, message in [
        (2, "0-based index"),
        (4, "the best *training* mean IoU"),
        (1, "not the epoch with the best validation"),
        (2.5, "whole epoch number"),
        ("3", "whole epoch number"),
    ]:
        assert not checks.check_best_epoch(answer, HISTORY)
        assert message in capsys.readouterr().out
    assert not checks.check_best_epoch(None, HISTORY)
    assert "not answered yet" in capsys.readouterr().out


def test_check_best_epoch_names_the_last_epoch_and_the_lowest_loss(capsys):
    logs = {"val_miou": [0.2, 0.6, 0.5, 0.4, 0.3], "val_loss": [0.9, 0.8, 0.5, 0.7, 0.6],
            "miou": [0.1, 0.7, 0.3, 0.4, 0.5]}  # fmt: skip
    assert not checks.check_best_epoch(5, logs)
    assert "the last epoch" in capsys.readouterr().out
    assert not checks.check_best_epoch(3, logs)
    assert "lowest validation loss" in capsys.readouterr().out


# --- Lesson 06 (evaluation) -----------------------------------------------------------------------

CM_05 = np.array([[50, 5, 10], [2, 300, 20], [8, 15, 30]])  # rows = truth, columns = prediction
PRECISION_05 = np.array([50 / 60, 300 / 320, 30 / 60])


@pytest.mark.parametrize(
    ("answer", "verdict", "says"),
    [
        (PRECISION_05, True, "correct"),
        (list(PRECISION_05), True, "correct"),
        (np.diag(CM_05) / CM_05.sum(axis=1), False, "that is the recall"),
        (metrics.iou_from_confusion(CM_05), False, "that is the IoU"),
        (100 * PRECISION_05, False, "percentages"),
        (np.diag(CM_05) / CM_05.sum(), False, "divided by all pixels"),
        (PRECISION_05[:2], False, "one per class"),
        ("0.8", False, "not the precisions"),
        (None, False, "not answered yet"),
    ],
)
def test_check_precision(capsys, answer, verdict, says):
    assert bool(checks.check_precision(answer, CM_05)) is verdict
    assert says in capsys.readouterr().out


def test_check_precision_agrees_with_counting_pixel_by_pixel(capsys):
    rng = np.random.default_rng(1)
    y_true, y_pred = rng.integers(0, 3, (2, 20, 20)), rng.integers(0, 3, (2, 20, 20))
    cm = metrics.confusion_matrix(y_true, y_pred, 3)
    by_pixels = [np.mean(y_true[y_pred == c] == c) for c in range(3)]  # of predicted c, true c
    assert checks.check_precision(by_pixels, cm)


IOUS_05 = np.array([0.9, 0.2, 0.7, 0.4, 0.95, 0.1, 0.6, 0.8])  # worst first: 5, 1, 3, 6, 2


@pytest.mark.parametrize(
    ("answer", "verdict", "says"),
    [
        (np.array([5, 1, 3, 6, 2]), True, "correct"),
        ([5, 1, 3, 6, 2], True, "correct"),
        (np.argsort(IOUS_05)[:5], True, "correct"),
        (np.argsort(IOUS_05)[::-1][:5], False, "the best images"),
        (np.sort(IOUS_05)[:5], False, "IoU values"),
        ([1, 2, 3, 5, 6], False, "not worst first"),
        ([6, 2, 4, 7, 3], False, "one too high"),
        ([5, 1, 3, 6, 0], False, "image 0 is not among the 5 worst"),
        ([5, 1, 3, 6], False, "expected 5 image indices"),
        ([5, 5, 3, 6, 2], False, "different indices"),
        ([5, 1, 3, 6, 8], False, "different indices between 0 and 7"),
        (None, False, "not answered yet"),
    ],
)
def test_check_worst_images(capsys, answer, verdict, says):
    assert bool(checks.check_worst_images(answer, IOUS_05, k=5)) is verdict
    assert says in capsys.readouterr().out


def test_check_worst_images_accepts_any_order_among_ties(capsys):
    ious = [0.5, 0.1, 0.1, 0.9]
    assert checks.check_worst_images([2, 1], ious, k=2)
    assert checks.check_worst_images([1, 2], ious, k=2)


# --- every checker: where its exercise is -------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in checks.__all__ if n.startswith("check_")])
def test_each_checker_names_the_lesson_section_whose_exercise_calls_it(name):
    import json
    import re
    from pathlib import Path

    checker = getattr(checks, name)
    found = re.search(r'Exercise of lesson (\d\d), §(\d+) "([^"]+)"\.', checker.__doc__)
    assert found, f"{name}'s docstring should say 'Exercise of lesson NN, §k \"Title\".'"
    lesson, section, title = found.groups()
    assert checker.__module__.startswith(f"labutils.checks.lesson{lesson}")
    (path,) = Path(__file__).resolve().parents[1].glob(f"notebooks/{lesson}_*.ipynb")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    text = "\n".join("".join(cell["source"]) for cell in cells)
    heading = f"## {section} · {title}\n"
    assert heading in text, f"{path.name} has no section {heading!r}"
    in_section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    assert f"checks.{name}(" in in_section, f"{name} is not called in {path.name}, §{section}"
