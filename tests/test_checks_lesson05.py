"""Tests for lesson 05's checkers: the right answer passes, each known mistake is named, and the
student edition's None is "not answered yet"."""

import keras
import pytest
import tensorflow as tf

from labutils import checks, evaluation, losses, pipeline


def ce_only(y_true, y_pred):
    return keras.ops.mean(keras.losses.sparse_categorical_crossentropy(y_true, y_pred))


def dice_without_smoothing(y_true, y_pred):
    one_hot = keras.ops.one_hot(y_true[..., 0], 3)
    overlap = keras.ops.sum(one_hot * y_pred, (0, 1, 2))
    total = keras.ops.sum(one_hot, (0, 1, 2)) + keras.ops.sum(y_pred, (0, 1, 2))
    return 1 - keras.ops.mean(2 * overlap / total)


def dice_per_image(y_true, y_pred):
    one_hot = keras.ops.one_hot(y_true[..., 0], 3)
    overlap = keras.ops.sum(one_hot * y_pred, (1, 2))
    total = keras.ops.sum(one_hot, (1, 2)) + keras.ops.sum(y_pred, (1, 2))
    return 1 - keras.ops.mean((2 * overlap + 1) / (total + 1))


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (losses.soft_dice_loss, "correct"),
        (lambda t, p: 1 - losses.soft_dice_loss(t, p), "the Dice itself"),
        (dice_without_smoothing, "no +1"),
        (dice_per_image, "the Dice of each image averaged"),
        (lambda t, p: 0.5, "expected 0.6487"),
        (lambda t, p: keras.ops.ones((2, 4)), "a loss is one number"),
        (lambda t: 0.0, "raised TypeError"),
        (None, "not answered yet"),
        ("dice", "expected a function"),
    ],
)
def test_check_soft_dice_loss(answer, says, capsys):
    assert bool(checks.check_soft_dice_loss(answer)) == (says == "correct")
    assert says in capsys.readouterr().out


def test_check_soft_dice_loss_covers_an_all_background_batch(capsys):
    """A loss that is right except when a class is absent fails on the all-background batch."""

    def wrong_when_classes_are_missing(y_true, y_pred):
        absent = keras.ops.any(keras.ops.sum(keras.ops.one_hot(y_true[..., 0], 3), (0, 1, 2)) == 0)
        return keras.ops.where(absent, 0.0, losses.soft_dice_loss(y_true, y_pred))

    assert not checks.check_soft_dice_loss(wrong_when_classes_are_missing)
    assert "on an all-background batch" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (losses.ce_dice_loss, "correct"),
        (ce_only, "only the cross-entropy"),
        (losses.soft_dice_loss, "only the Dice loss"),
        (lambda t, p: keras.losses.sparse_categorical_crossentropy(t, p), "one number"),
        (lambda t, p: ce_only(t, p) + 1 - losses.soft_dice_loss(t, p), "plus the Dice itself"),
        (None, "not answered yet"),
    ],
)
def test_check_ce_dice_loss(answer, says, capsys):
    assert bool(checks.check_ce_dice_loss(answer)) == (says == "correct")
    assert says in capsys.readouterr().out


def compile_with(metrics=None, optimizer=None, loss=losses.ce_dice_loss):
    def compile_unet(model, learning_rate):
        iou = keras.metrics.MeanIoU(num_classes=3, sparse_y_pred=False, name="miou")
        model.compile(optimizer=optimizer or keras.optimizers.Adam(learning_rate), loss=loss,
                      metrics=["accuracy", iou] if metrics is None else metrics)  # fmt: skip
        return model

    return compile_unet


def compile_without_return(model, learning_rate):
    model.compile("adam", "sparse_categorical_crossentropy")


SPARSE_IOU = ["accuracy", keras.metrics.MeanIoU(num_classes=3)]
UNNAMED_IOU = [keras.metrics.MeanIoU(3, sparse_y_pred=False)]


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (compile_with(), "correct"),
        (compile_with(metrics=SPARSE_IOU), "sparse_y_pred=True"),
        (compile_with(metrics=UNNAMED_IOU), "'val_mean_io_u"),
        (compile_with(metrics=["accuracy"]), "no keras.metrics.MeanIoU"),
        (compile_with(optimizer="adam"), "learning rate is 0.001"),
        (compile_with(optimizer="sgd"), "SGD"),
        (compile_with(loss="sparse_categorical_crossentropy"), "not cross-entropy + Dice"),
        (compile_without_return, "returned NoneType"),
        (None, "not answered yet"),
    ],
)
def test_check_compile(answer, says, capsys):
    assert bool(checks.check_compile(answer)) == (says == "correct")
    assert says in capsys.readouterr().out


def callbacks_with(monitor="val_miou", mode="max", restore=True, best_only=True):
    def make_fit_callbacks(checkpoint_path, patience):
        stop = keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=patience,
                                             restore_best_weights=restore)  # fmt: skip
        save = keras.callbacks.ModelCheckpoint(
            checkpoint_path,
            monitor="val_miou",
            mode="max",
            save_best_only=best_only,
            save_weights_only=True,
        )
        return [stop, save]

    return make_fit_callbacks


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (callbacks_with(), "correct"),
        (callbacks_with(monitor="val_accuracy"), "the original lab's choice"),
        (callbacks_with(monitor="miou"), "the *training* score"),
        (callbacks_with(mode="min"), "mode='max'"),
        (callbacks_with(restore=False), "restore_best_weights is off"),
        (callbacks_with(best_only=False), "only when val_miou improves"),
        (lambda path, patience: [callbacks_with()(path, patience)[0]], "no a ModelCheckpoint"),
        (None, "not answered yet"),
    ],
)
def test_check_callbacks(answer, says, capsys):
    assert bool(checks.check_callbacks(answer)) == (says == "correct")
    assert says in capsys.readouterr().out


def independent_draws(images, masks):
    return pipeline.augment_batch(images, masks)[0], pipeline.augment_batch(images, masks)[1]


def bilinear_masks(images, masks):
    side = tf.shape(images)[1]
    crop = tf.cast(masks[:, 4:, 4:], tf.float32)
    return tf.image.resize(images[:, 4:, 4:], (side, side)), tf.image.resize(crop, (side, side))


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (pipeline.augment_batch, "correct"),
        (independent_draws, "no longer line up"),
        (lambda i, m: (i, m), "no image was flipped"),
        (lambda i, m: (tf.image.flip_left_right(i), tf.image.flip_left_right(m)), "zoomed"),
        (bilinear_masks, "resized bilinearly"),
        (lambda i, m: (i[:, 4:, 4:], m[:, 4:, 4:]), "the shapes changed"),
        (lambda i, m: i, "return two tensors"),
        (None, "not answered yet"),
    ],
)
def test_check_augment_pair(answer, says, capsys):
    assert bool(checks.check_augment_pair(answer)) == (says == "correct")
    assert says in capsys.readouterr().out


def fitting(validation="val", epochs=None, with_callbacks=True):
    def fit_unet(model, train_ds, val_ds, e, c):
        data = {"val": val_ds, "train": train_ds, "none": None}[validation]
        return model.fit(train_ds, validation_data=data, epochs=epochs or e,
                         callbacks=c if with_callbacks else None, verbose=0)  # fmt: skip

    return fit_unet


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (fitting(), "correct"),
        (fitting(validation="none"), "pass validation_data"),
        (fitting(validation="train"), "other batches"),
        (fitting(epochs=3), "trained 3 epochs"),
        (fitting(with_callbacks=False), "trained 0 epochs"),
        (lambda m, t, v, e, c: m, "returned Functional"),
        (None, "not answered yet"),
    ],
)
def test_check_fit(answer, says, capsys):
    assert bool(checks.check_fit(answer)) == (says == "correct")
    assert says in capsys.readouterr().out


def unflipped_back(model, images):
    return (model.predict_on_batch(images) + model.predict_on_batch(images[:, :, ::-1])) / 2


def up_down(model, images):
    return (model.predict_on_batch(images) + model.predict_on_batch(images[:, ::-1])[:, ::-1]) / 2


def summed(model, images):
    return 2 * evaluation.flip_average(model, images)


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (evaluation.flip_average, "correct"),
        (unflipped_back, "not mirrored back"),
        (up_down, "mirrors up-down"),
        (lambda m, x: m.predict_on_batch(x), "nothing was mirrored"),
        (summed, "divide by 2"),
        (lambda m, x: evaluation.flip_average(m, x).argmax(-1), "average the probabilities"),
        (lambda m, x: evaluation.flip_average(m, x)[..., :2], "one probability per class"),
        (lambda m, x: 0.9 * evaluation.flip_average(m, x), "not the average"),
        (lambda m: m, "raised TypeError"),
        (None, "not answered yet"),
    ],
)
def test_check_flip_average(answer, says, capsys):
    assert bool(checks.check_flip_average(answer)) == (says == "correct")
    assert says in capsys.readouterr().out
