"""The pretrained-encoder lesson's checkers (labutils/checks/lesson09.py, lesson 09): the right
answer and labutils' twin pass, each usual mistake is named, and None is "not answered yet"."""

import pytest
from keras import layers

from labutils import checks, pretrained


def transpose_decoder(skips, num_classes):
    """The tutorial's decoder, written as a student would."""
    *skips, x = skips
    for filters, skip in zip((64, 32, 16, 8), reversed(skips), strict=True):
        x = layers.Conv2DTranspose(filters, 3, strides=2, padding="same", activation="relu")(x)
        x = layers.Concatenate()([x, skip])
    x = layers.Conv2DTranspose(num_classes, 3, strides=2, padding="same")(x)
    return layers.Softmax()(x)


def stops_at_half(skips, num_classes):
    *skips, x = skips
    for skip in reversed(skips):
        x = layers.Concatenate()([layers.UpSampling2D(2)(x), skip])
    return layers.Conv2D(num_classes, 1, activation="softmax")(x)


def forgets_a_skip(skips, num_classes):
    *skips, x = skips
    for k in (3, 2, 1):
        x = layers.Concatenate()([layers.UpSampling2D(2)(x), skips[k]])
    x = layers.UpSampling2D(4)(x)  # skips[0] left out
    return layers.Conv2D(num_classes, 1, activation="softmax")(x)


def wrong_order(skips, num_classes):
    x = skips[0]
    for skip in skips[1:]:
        x = layers.Concatenate()([layers.UpSampling2D(2)(x), skip])
    return x


@pytest.mark.parametrize("answer", [transpose_decoder, lambda s, n: pretrained.decode(s, n)])
def test_check_decoder_accepts_the_decoder_and_labutils_twin(answer, capsys):
    assert checks.check_decoder(answer)
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (stops_at_half, "half the input side"),
        (forgets_a_skip, "skips[0] (32 × 32) never reaches the output"),
        (wrong_order, "another side"),
        (lambda s, n: layers.Conv2D(n, 1)(layers.UpSampling2D(2)(s[0])), "not probabilities"),
        (lambda s, n: 1 / 0, "ZeroDivisionError"),
    ],
)
def test_check_decoder_names_the_mistake(answer, says, capsys):
    assert not checks.check_decoder(answer)
    assert says in capsys.readouterr().out


def resize_block(x, filters):
    x = layers.UpSampling2D(2)(x)
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    return layers.ReLU()(layers.BatchNormalization()(x))


def test_check_resize_upsample_accepts_resize_then_convolve_and_the_twin(capsys):
    assert checks.check_resize_upsample(resize_block)
    assert checks.check_resize_upsample(lambda x, f: pretrained.upsample(x, f, "resize"))


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (lambda x, f: pretrained.upsample(x, f, "transpose"), "Conv2DTranspose"),
        (lambda x, f: layers.Conv2D(f, 3, padding="same")(x), "expected (16, 16, 4)"),
        (lambda x, f: layers.UpSampling2D(2)(layers.Dense(f)(x)), "resize (UpSampling2D) and then"),
    ],
)
def test_check_resize_upsample_names_the_mistake(answer, says, capsys):
    assert not checks.check_resize_upsample(answer)
    assert says in capsys.readouterr().out


def unfreeze_in_the_wrong_order(model):
    encoder = model.get_layer("encoder")
    for layer in encoder.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.trainable = False
    encoder.trainable = True  # undoes the loop above


def unfreeze_everything(model):
    model.get_layer("encoder").trainable = True


def test_check_unfreeze_accepts_labutils_twin(capsys):
    assert checks.check_unfreeze(lambda model: pretrained.set_encoder_trainable(model, True))
    assert "correct" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (unfreeze_everything, "batch normalisations are trainable"),
        (unfreeze_in_the_wrong_order, "does not last"),
        (lambda model: None, "still frozen"),
    ],
)
def test_check_unfreeze_names_the_mistake(answer, says, capsys):
    assert not checks.check_unfreeze(answer)
    assert says in capsys.readouterr().out


@pytest.mark.parametrize("checker", [checks.check_decoder, checks.check_resize_upsample,
                                     checks.check_unfreeze])  # fmt: skip
def test_lesson09_checkers_report_none_as_not_answered(checker, capsys):
    assert not checker(None)
    assert "not answered yet" in capsys.readouterr().out
