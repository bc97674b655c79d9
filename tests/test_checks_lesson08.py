"""Lesson 08's checkers: watershed, mask IoU of instances and GrabCut. Each accepts the right
answer (the tested twin in labutils), names the usual mistakes and says "not answered yet"."""

import cv2
import numpy as np
import pytest

from labutils import checks, detection_metrics, multi_pet, prompts


def cores_only(pet_mask, image):  # the seeds, never grown by the watershed
    distance = cv2.distanceTransform(pet_mask.astype(np.uint8), cv2.DIST_L2, 5)
    return cv2.connectedComponents((distance > 0.5 * distance.max()).astype(np.uint8))[1]


def not_masked(pet_mask, image):  # the watershed's basins, background included
    distance = cv2.distanceTransform(pet_mask.astype(np.uint8), cv2.DIST_L2, 5)
    seeds = cv2.connectedComponents((distance > 0.5 * distance.max()).astype(np.uint8))[1]
    return np.maximum(cv2.watershed(image, seeds.astype(np.int32)), 0)


def split_raw_markers(pet_mask, image):  # watershed's -1 lines left in
    out = multi_pet.split_touching(pet_mask, image).astype(int)
    out[0, 0] = -1
    return out


@pytest.mark.parametrize(
    ("fn", "verdict", "says"),
    [
        (multi_pet.split_touching, True, "correct"),
        (
            lambda m, im: cv2.connectedComponents(m.astype(np.uint8))[1],
            False,
            "connected components",
        ),
        (cores_only, False, "only the cores"),
        (not_masked, False, "flooded the background"),
        (split_raw_markers, False, "negative"),
        (lambda m, im: m[:5], False, "shape"),
        (None, False, "not answered yet"),
    ],
)
def test_check_split_touching(capsys, fn, verdict, says):
    assert bool(checks.check_split_touching(fn)) is verdict
    assert says in capsys.readouterr().out


def test_split_touching_scenes_are_ones_components_merge():
    from labutils.checks.lesson08 import SCENES

    for index in SCENES:
        scene = multi_pet.make_multi_pet_scene(index, num_pets=2 + index % 2, touching=True)
        pets = scene["semantic"] == 0
        assert cv2.connectedComponents(pets.astype(np.uint8))[0] - 1 == 1
        assert multi_pet.split_touching(pets, scene["image"]).max() == scene["instances"].max()


def over_true_area(pred, true):
    inter = np.einsum("dhw,ghw->dg", pred, true).astype(float)
    return inter / true.sum(axis=(1, 2))[None, :]


def nan_for_empty(pred, true):
    inter = np.einsum("dhw,ghw->dg", pred, true).astype(float)
    union = pred.sum(axis=(1, 2))[:, None] + true.sum(axis=(1, 2))[None, :] - inter
    with np.errstate(invalid="ignore"):
        out = inter / union
    out[-1] = np.nan  # the empty prediction
    return out


@pytest.mark.parametrize(
    ("fn", "verdict", "says"),
    [
        (detection_metrics.mask_ious, True, "correct"),
        (lambda p, t: detection_metrics.mask_ious(p, t).T, False, "one row per *predicted*"),
        (over_true_area, False, "true mask's area"),
        (nan_for_empty, False, "NaN where a mask is empty"),
        (lambda p, t: np.zeros((3, 2)), False, "not the mask IoUs"),
        (None, False, "not answered yet"),
    ],
)
def test_check_mask_ious(capsys, fn, verdict, says):
    assert bool(checks.check_mask_ious(fn)) is verdict
    assert says in capsys.readouterr().out


def grabcut_labels(image, box, only_sure=False, xyxy_rect=False):
    x0, y0, x1, y1 = np.round(box).astype(int)
    mask = np.zeros(image.shape[:2], np.uint8)
    rect = (x0, y0, x1, y1) if xyxy_rect else (x0, y0, x1 - x0, y1 - y0)
    rect = tuple(int(v) for v in rect)
    cv2.grabCut(image, mask, rect, np.zeros((1, 65)), np.zeros((1, 65)), 5, cv2.GC_INIT_WITH_RECT)
    return mask


@pytest.mark.parametrize(
    ("fn", "verdict", "says"),
    [
        (prompts.grabcut_mask, True, "correct"),
        (lambda im, b: np.isin(grabcut_labels(im, b), (1, 3)), True, "correct"),
        (grabcut_labels, False, "labels 0..3"),
        (lambda im, b: grabcut_labels(im, b) == cv2.GC_FGD, False, "probable"),
        (
            lambda im, b: np.isin(grabcut_labels(im, b, xyxy_rect=True), (1, 3)),
            False,
            "(x, y, width",
        ),
        (lambda im, b: prompts.grabcut_mask(im, b)[1:], False, "shape"),
        (None, False, "not answered yet"),
    ],
)
def test_check_grabcut(capsys, fn, verdict, says):
    assert bool(checks.check_grabcut(fn)) is verdict
    assert says in capsys.readouterr().out
