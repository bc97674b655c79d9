"""Lesson 06's Exercise 1 checker, predictions at the photo's own size: it accepts the right
function, names the usual mistakes and says "not answered yet" for None."""

import numpy as np
import pytest
import tensorflow as tf

from labutils import checks, evaluation


def right(probs, height, width):
    return np.argmax(tf.image.resize(probs, (height, width), method="bilinear"), axis=-1)


def labels_enlarged(probs, height, width):  # the blocky route the lesson warns about
    labels = np.argmax(probs, axis=-1)[..., None]
    return tf.image.resize(labels, (height, width), method="nearest").numpy()[..., 0]


def nearest_probs(probs, height, width):  # nearest on probabilities: the same blocks
    return np.argmax(tf.image.resize(probs, (height, width), method="nearest"), axis=-1)


def test_full_size_accepts_the_right_function(capsys):
    assert checks.check_full_size(right)
    assert checks.check_full_size(evaluation.predict_full_size)
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("function", "expected_words"),
    [
        (labels_enlarged, "you enlarged the labels"),
        (nearest_probs, "you enlarged the labels"),
        (lambda p, h, w: right(p, h, w)[..., None], "Drop the trailing axis"),
        (lambda p, h, w: tf.image.resize(p, (h, w)).numpy(), "take the argmax"),
        (lambda p, h, w: right(p, w, h), "swapped"),
        (lambda p, h, w: right(p, h, w) * 0, "of the labels differ"),
        (lambda p, h, w: p.resize(h, w), "raised"),
    ],
)
def test_full_size_names_the_mistake(capsys, function, expected_words):
    assert not checks.check_full_size(function)
    out = capsys.readouterr().out
    assert "❌" in out and expected_words in out


def test_full_size_not_answered(capsys):
    assert not checks.check_full_size(None)
    assert "not answered yet" in capsys.readouterr().out


def test_predict_full_size_keeps_the_size_and_enlarges_probabilities():
    probs = np.array([[[1.0, 0.0], [0.0, 1.0]]], np.float32)  # (1, 2, 2): classes 0 then 1
    assert evaluation.predict_full_size(probs, 1, 2).tolist() == [[0, 1]]  # no resize
    batch = evaluation.predict_full_size(np.stack([probs, probs[:, ::-1]]), 3, 6)  # (2, 3, 6)
    assert batch.shape == (2, 3, 6) and batch[0, 0].tolist() == [0, 0, 0, 1, 1, 1]
    assert batch[1, 0].tolist() == [1, 1, 1, 0, 0, 0]
