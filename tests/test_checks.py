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


# --- lesson 02: box IoU ----------------------------------------------------------------------


def box_parts(a, b, plus=0):
    """Width and height of the overlap (negative when apart) and both areas, with "+plus"."""
    width = min(a[2], b[2]) - max(a[0], b[0]) + plus
    height = min(a[3], b[3]) - max(a[1], b[1]) + plus
    area_a = (a[2] - a[0] + plus) * (a[3] - a[1] + plus)
    area_b = (b[2] - b[0] + plus) * (b[3] - b[1] + plus)
    return width, height, area_a, area_b


def right_box_iou(a, b):
    width, height, area_a, area_b = box_parts(a, b)
    inter = max(0, width) * max(0, height)
    return inter / (area_a + area_b - inter)


def unclamped_box_iou(a, b):
    width, height, area_a, area_b = box_parts(a, b)
    return width * height / (area_a + area_b - width * height)


def no_subtraction_box_iou(a, b):
    width, height, area_a, area_b = box_parts(a, b)
    return max(0, width) * max(0, height) / (area_a + area_b)


def plus_one_box_iou(a, b):
    width, height, area_a, area_b = box_parts(a, b, plus=1)
    inter = max(0, width) * max(0, height)
    return inter / (area_a + area_b - inter)


def test_box_iou_accepts_the_right_function(capsys):
    assert checks.check_box_iou(right_box_iou)
    assert checks.check_box_iou(lambda a, b: metrics.box_iou(a, b))
    assert "✅" in capsys.readouterr().out


def test_box_iou_not_answered(capsys):
    assert not checks.check_box_iou(None)
    assert "not answered yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "expected_words"),
    [
        (unclamped_box_iou, "not clamped at 0"),
        (no_subtraction_box_iou, "counts the intersection twice"),
        (plus_one_box_iou, "'+1' pixel convention"),
        (lambda a, b: 0.5, "expected"),
        (lambda a, b: [0.1, 0.2], "expected one number"),
        (0.14, "expected a function"),
    ],
)
def test_box_iou_names_the_mistake(capsys, answer, expected_words):
    assert not checks.check_box_iou(answer)
    out = capsys.readouterr().out
    assert "❌" in out and expected_words in out and "Hint:" in out
