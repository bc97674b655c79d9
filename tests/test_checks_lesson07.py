"""Lesson 07's checkers: head boxes, the box head, the GIoU loss, precision and recall, and
COCO's 101-point AP. Each accepts the right answer, names the usual mistakes and says "not
answered yet" for the student edition's None."""

import numpy as np
import pytest
from keras import layers, ops

from labutils import bbox, box_detector, checks, detection_metrics

# --- lesson 07: detection ------------------------------------------------------------------------

HEADS_07 = np.array([[0.1, 0.2, 0.5, 0.6], [0, 0, 0, 0], [0.3, 0.1, 0.9, 0.7]])  # yxyx, one missing
RIGHT_HEADS_07 = np.array([[0.2, 0.1, 0.6, 0.5], [0.1, 0.3, 0.7, 0.9]])


@pytest.mark.parametrize(
    ("answer", "verdict", "says"),
    [
        (RIGHT_HEADS_07, True, "correct"),
        (RIGHT_HEADS_07.astype(np.float32), True, "correct"),
        (HEADS_07[[0, 2]], False, "still [y_min, x_min, y_max, x_max]"),
        (HEADS_07[:, [1, 0, 3, 2]], False, "rows of zeros"),
        (
            np.hstack([RIGHT_HEADS_07[:, :2], RIGHT_HEADS_07[:, 2:] - RIGHT_HEADS_07[:, :2]]),
            False,
            "(x, y, width, height)",
        ),
        (RIGHT_HEADS_07[:1], False, "expected 2 boxes"),
        (None, False, "not answered yet"),
    ],
)
def test_check_head_boxes(capsys, answer, verdict, says):
    assert bool(checks.check_head_boxes(answer, HEADS_07)) is verdict
    assert says in capsys.readouterr().out


IOUS_07 = np.array([0.9, 0.8, 0.6, 0.3, 0.76, 0.95])
SCORES_07 = np.array([0.9, 0.4, 0.8, 0.7, 0.2, 0.6])
# kept (score >= 0.5): 0, 2, 3, 5; hits (IoU >= 0.75) among them: 0, 5 -> precision 2/4, recall 2/6


@pytest.mark.parametrize(
    ("answer", "verdict", "says"),
    [
        ((0.5, 1 / 3), True, "correct"),
        (np.array([0.5, 1 / 3]), True, "correct"),
        ((1 / 3, 0.5), False, "swapped"),
        ((4 / 6, 4 / 6), False, "every detection was counted"),
        ((0.5, 0.5), False, "not by the detections kept"),
        ((0.4, 0.3), False, "not the precision and recall"),
        (0.5, False, "two numbers"),
        (None, False, "not answered yet"),
    ],
)
def test_check_precision_recall(capsys, answer, verdict, says):
    result = checks.check_precision_recall(answer, IOUS_07, SCORES_07, 0.75, 0.5)
    assert bool(result) is verdict
    assert says in capsys.readouterr().out


def test_check_precision_recall_agrees_with_labutils_detection():
    from labutils import detection_metrics

    truth = np.tile([[0.0, 0.0, 1.0, 1.0]], (len(IOUS_07), 1))
    preds = np.hstack([np.zeros((len(IOUS_07), 2)), np.ones((len(IOUS_07), 1)), IOUS_07[:, None]])
    # each box is the truth's lower part, IoU = its height
    expected = detection_metrics.precision_recall(truth, preds, SCORES_07, 0.75, min_score=0.5)
    assert checks.check_precision_recall(expected, IOUS_07, SCORES_07, 0.75, 0.5)


# --- the box head ---------------------------------------------------------------------------------


def corners_head(features):  # four corners squashed one by one: x_max < x_min can happen
    return layers.Dense(5, activation="sigmoid")(features)


def linear_head(features):  # boxes can leave the image
    raw = layers.Dense(5)(features)
    return ops.concatenate([raw[:, :4], ops.sigmoid(raw[:, 4:])], axis=1)


def four_outputs(features):
    return layers.Dense(4, activation="sigmoid")(features)


def raw_score(features):
    raw = box_detector.box_head(features)
    return ops.concatenate([raw[:, :4], 5 * raw[:, 4:] - 2], axis=1)


@pytest.mark.parametrize(
    ("fn", "verdict", "says"),
    [
        (box_detector.box_head, True, "correct"),
        (corners_head, False, "x_max < x_min"),
        (linear_head, False, "outside 0..1"),
        (four_outputs, False, "the score, is missing"),
        (raw_score, False, "squash it with a sigmoid"),
        (lambda f: 1 / 0, False, "ZeroDivisionError"),
        (None, False, "not answered yet"),
    ],
)
def test_check_box_head(capsys, fn, verdict, says):
    assert bool(checks.check_box_head(fn)) is verdict
    assert says in capsys.readouterr().out


# --- the GIoU loss --------------------------------------------------------------------------------


def giou_terms(t, p, guard=1e-7):
    area = lambda b: (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])  # noqa: E731
    sides = ops.minimum(t[:, 2:], p[:, 2:]) - ops.maximum(t[:, :2], p[:, :2])
    inter = ops.prod(ops.maximum(sides, 0.0), axis=1)
    union = area(t) + area(p) - inter
    hull = ops.prod(ops.maximum(t[:, 2:], p[:, 2:]) - ops.minimum(t[:, :2], p[:, :2]), axis=1)
    return inter, union, hull, guard


def right_loss(t, p):
    inter, union, hull, g = giou_terms(t, p)
    return 1 - (inter / ops.maximum(union, g) - (hull - union) / ops.maximum(hull, g))


def unguarded_loss(t, p):
    inter, union, hull, _ = giou_terms(t, p)
    return 1 - (inter / union - (hull - union) / hull)


def giou_not_loss(t, p):
    return 1 - right_loss(t, p)


def iou_loss(t, p):
    inter, union, _, g = giou_terms(t, p)
    return 1 - inter / ops.maximum(union, g)


@pytest.mark.parametrize(
    ("fn", "verdict", "says"),
    [
        (right_loss, True, "correct"),
        (box_detector.giou_box_loss, True, "correct"),
        (unguarded_loss, False, "division by zero"),
        (giou_not_loss, False, "that is GIoU itself"),
        (iou_loss, False, "that is 1 − IoU"),
        (lambda t, p: ops.mean(right_loss(t, p)), False, "one loss per box"),
        (None, False, "not answered yet"),
    ],
)
def test_check_giou_loss(capsys, fn, verdict, says):
    assert bool(checks.check_giou_loss(fn)) is verdict
    assert says in capsys.readouterr().out


def test_giou_loss_cases_cover_nested_overlapping_disjoint_and_degenerate_boxes():
    from labutils.checks.lesson07_detector import GIOU_CASES

    truth, pred = GIOU_CASES[:, 0].astype(float), GIOU_CASES[:, 1].astype(float)
    iou, giou = bbox.box_iou(truth, pred).diagonal(), bbox.box_giou(truth, pred)
    assert np.isclose(giou[0], iou[0])  # nested: the union is a rectangle, GIoU = IoU
    assert giou[1] < iou[1] and iou[1] > 0  # overlapping, not nested: GIoU < IoU
    assert iou[2] == 0 and giou[2] < 0  # disjoint
    assert bbox.box_area(pred[3]) == 0 and bbox.box_area(truth[4]) == 0  # degenerate


# --- COCO's 101-point AP --------------------------------------------------------------------------


def no_envelope(precision, recall):
    at = np.searchsorted(recall, np.linspace(0, 1, 101), side="left")
    return np.mean(np.where(at < len(precision), precision[np.minimum(at, len(precision) - 1)], 0))


def eleven_point(precision, recall):
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    at = np.searchsorted(recall, np.linspace(0, 1, 11), side="left")
    return np.mean(np.where(at < len(envelope), envelope[np.minimum(at, len(envelope) - 1)], 0))


def all_point(precision, recall):
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    return np.sum(np.diff(np.concatenate([[0.0], recall])) * envelope)


@pytest.mark.parametrize(
    ("fn", "verdict", "says"),
    [
        (detection_metrics.ap_from_curve, True, "correct"),
        (no_envelope, False, "no envelope"),
        (eleven_point, False, "VOC 2007's 11-point"),
        (all_point, False, "VOC 2010's all-point"),
        (lambda p, r: np.mean(p), False, "mean of the precisions"),
        (lambda p, r: float("nan"), False, "expected"),
        (None, False, "not answered yet"),
    ],
)
def test_check_average_precision(capsys, fn, verdict, says):
    assert bool(checks.check_average_precision(fn)) is verdict
    assert says in capsys.readouterr().out


def test_the_checkers_reference_ap_is_pycocotools_ap_on_real_matching():
    """ap_from_curve on a matched PR list = average_precision, which test_detection checks
    against pycocotools: the exercise's reference is COCO's AP."""
    rng = np.random.default_rng(3)
    truth = rng.uniform(0, 50, (30, 2))
    truth = np.hstack([truth, truth + rng.uniform(5, 40, (30, 2))])
    preds = truth + rng.normal(0, 4, truth.shape)
    preds = np.hstack(
        [np.minimum(preds[:, :2], preds[:, 2:]), np.maximum(preds[:, :2], preds[:, 2:])]
    )
    scores = rng.random(30)
    precision, recall, _ = detection_metrics.precision_recall_curve(truth, preds, scores, 0.5)
    assert checks.check_average_precision(lambda p, r: detection_metrics.ap_from_curve(p, r))
    assert detection_metrics.ap_from_curve(precision, recall) == pytest.approx(
        detection_metrics.average_precision(truth, preds, scores, 0.5), abs=1e-12
    )
