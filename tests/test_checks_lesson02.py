"""Lesson 02's new checkers: the IoU of a dataset and the mean IoU of probabilities. Each accepts
the right answer, names the usual mistakes and says "not answered yet" for None."""

import numpy as np
import pytest

from labutils import checks, metrics

# two images of one dataset: a large pet predicted well, a small pet mostly missed
TRUES = [np.array([[0, 0, 1, 1], [0, 2, 2, 1]]), np.array([[1, 1, 1, 1], [1, 0, 2, 1]])]
PREDS = [np.array([[0, 0, 1, 1], [0, 2, 1, 1]]), np.array([[1, 1, 1, 1], [1, 1, 1, 1]])]


def iou_of(cm):
    return np.diag(cm) / (cm.sum(axis=0) + cm.sum(axis=1) - np.diag(cm))


def test_dataset_iou_accepts_the_summed_confusion_matrix(capsys):
    cm = sum(metrics.confusion_matrix(t, p, 3) for t, p in zip(TRUES, PREDS, strict=True))
    assert checks.check_dataset_iou(iou_of(cm), TRUES, PREDS)
    stacked = metrics.iou_per_class(np.stack(TRUES), np.stack(PREDS), 3)  # the same pixels
    assert checks.check_dataset_iou(stacked, TRUES, PREDS)
    assert "✅" in capsys.readouterr().out


def per_image_average():
    with np.errstate(divide="ignore", invalid="ignore"):
        ious = [
            iou_of(metrics.confusion_matrix(t, p, 3)) for t, p in zip(TRUES, PREDS, strict=True)
        ]
    return np.nanmean(ious, axis=0)


@pytest.mark.parametrize(
    ("answer", "expected_words"),
    [
        (per_image_average(), "average of the per-image IoUs"),
        (iou_of(metrics.confusion_matrix(TRUES[0], PREDS[0], 3)), "first image only"),
        ([0.1, 0.2, 0.3], "not the IoU of each class"),
        ([0.5], "expected 3 numbers"),
    ],
)
def test_dataset_iou_names_the_mistake(capsys, answer, expected_words):
    assert not checks.check_dataset_iou(answer, TRUES, PREDS)
    assert expected_words in capsys.readouterr().out


def test_dataset_iou_not_answered(capsys):
    assert not checks.check_dataset_iou(None, TRUES, PREDS)
    assert "not answered yet" in capsys.readouterr().out


def right_mean_iou(y_true, probs):
    labels = probs.argmax(axis=-1)
    ious = []
    for c in range(probs.shape[-1]):
        union = ((labels == c) | (y_true == c)).sum()
        if union:
            ious.append(((labels == c) & (y_true == c)).sum() / union)
    return np.mean(ious)


def absent_as_zero(y_true, probs):
    labels = probs.argmax(axis=-1)
    return np.mean(
        [
            ((labels == c) & (y_true == c)).sum() / max(((labels == c) | (y_true == c)).sum(), 1)
            for c in range(3)
        ]
    )


def absent_as_nan(y_true, probs):
    labels = probs.argmax(axis=-1)
    with np.errstate(invalid="ignore"):
        return np.mean(
            [
                ((labels == c) & (y_true == c)).sum() / ((labels == c) | (y_true == c)).sum()
                for c in range(3)
            ]
        )


def no_argmax(y_true, probs):  # the original lab's iou_coeff, for one batch
    y = y_true[..., None].astype(float)
    inter = (y * probs).sum()
    return (inter + 1) / (y.sum() + probs.sum() - inter + 1)


def test_mean_iou_from_probs_accepts_the_right_function(capsys):
    assert checks.check_mean_iou_from_probs(right_mean_iou)
    assert "✅" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("function", "expected_words"),
    [
        (absent_as_zero, "counted as IoU 0"),
        (absent_as_nan, "NaN"),
        (no_argmax, "take the argmax"),
        (lambda y, p: metrics.iou_per_class(y, p.argmax(-1), 3), "average them into one"),
        (lambda y, p: y.shape[5], "raised IndexError"),
    ],
)
def test_mean_iou_from_probs_names_the_mistake(capsys, function, expected_words):
    assert not checks.check_mean_iou_from_probs(function)
    assert expected_words in capsys.readouterr().out


def test_mean_iou_from_probs_not_answered_and_not_a_function(capsys):
    assert not checks.check_mean_iou_from_probs(None)
    assert "not answered yet" in capsys.readouterr().out
    assert not checks.check_mean_iou_from_probs(0.5)
    assert "expected" in capsys.readouterr().out
