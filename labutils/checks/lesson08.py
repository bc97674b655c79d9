"""Checkers of lesson 08, "Instances and prompts": splitting touching pets with watershed, the
mask IoU of instances, and GrabCut from a box. Each runs the student's function on generated
pictures and compares it with the tested twin in ``labutils``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from labutils import detection_metrics, multi_pet, prompts
from labutils.box_masks import mask_to_box
from labutils.checks.verdict import FUNCTION, Exercise, Problem, Verdict, call_student, judge
from labutils.sources import synthetic

__all__ = [
    "SCENES",  # the touching-pet scenes the watershed checker uses
    "check_grabcut",
    "check_mask_ious",
    "check_split_touching",
]

_SPLIT = Exercise(
    "Exercise 1 (watershed)",
    "distance transform → cores above peak_fraction of its maximum → connectedComponents of "
    "the cores as int32 markers → cv2.watershed(image, markers) → ids kept inside the mask only.",
)
_MASK_IOUS = Exercise(
    "Exercise 2 (mask IoU of instances)",
    "for each predicted mask and each true mask: |P ∩ T| / |P ∪ T|, 0 when both are empty.",
)
_GRABCUT = Exercise(
    "Exercise 3 (GrabCut from a box)",
    "cv2.grabCut(image, mask, (x, y, width, height), bgd, fgd, iterations, "
    "cv2.GC_INIT_WITH_RECT); keep the pixels marked GC_FGD or GC_PR_FGD.",
)
SCENES = (20, 25, 61)  # touching scenes the recipe splits right (and that components merge)


def check_split_touching(split_fn: Callable[[Any, Any], Any] | None) -> Verdict:
    """Check ``split_touching(pet_mask, image) -> (H, W) ids`` on generated touching pets.

    Exercise of lesson 08, §1 "One mask, several pets".

    Args:
        split_fn: a function of a bool (H, W) mask and a uint8 (H, W, 3) picture returning
            instance ids (0 background); ``None`` when not answered yet.

    Returns:
        Whether, on three scenes of touching pets, it finds the instances of
        ``multi_pet.split_touching`` (same count, each matched with mask IoU ≥ 0.95).
    """
    return judge(_SPLIT, split_fn, FUNCTION, _split_problem)


def _split_problem(split_fn: Callable[[Any, Any], Any]) -> Problem:
    """The first scene the student's split gets wrong, with the likely mistake, or None."""
    for index in SCENES:
        scene = multi_pet.make_multi_pet_scene(index, num_pets=2 + index % 2, touching=True)
        pets = scene["semantic"] == 0
        right = multi_pet.split_touching(pets, scene["image"])
        try:
            got = np.asarray(call_student(split_fn, "split", pets.copy(), scene["image"].copy()))
        except ValueError as error:
            return str(error)
        if got.shape != pets.shape:
            return f"it returned shape {got.shape}, expected one id per pixel, {pets.shape}."
        if got.min() < 0:
            return (
                "some ids are negative: watershed marks the lines between basins −1; map them to 0."
            )
        if problem := _split_mistake(got, right, pets):
            return f"scene {index}: {problem}"
    return None


def _split_mistake(got: np.ndarray, right: np.ndarray, pets: np.ndarray) -> str | None:
    """What is wrong with instance ids ``got`` against the twin's ``right``, or None."""
    found, wanted = len(np.unique(got[got > 0])), int(right.max())
    if (got > 0)[~pets].mean() > 0.5:
        return "the pets flooded the background too: keep the ids inside the pet mask only."
    if found == 1:
        return "one instance for touching pets: that is what connected components give."
    if found != wanted:
        return f"{found} instances, expected {wanted}."
    ious = detection_metrics.mask_ious(
        np.stack([got == k for k in np.unique(got[got > 0])]),
        np.stack([right == k for k in range(1, wanted + 1)]),
    )
    if ious.max(axis=0).min() < 0.95:
        small = (got > 0).sum() < 0.8 * (right > 0).sum()
        return ("the instances cover only the cores: let cv2.watershed grow them over the "
                "mask." if small else
                "the instances differ from the recipe's: follow the hint's steps.")  # fmt: skip
    return None


def check_mask_ious(mask_ious_fn: Callable[[Any, Any], Any] | None) -> Verdict:
    """Check ``mask_ious(pred_masks, true_masks) -> (D, G)`` on small masks.

    Exercise of lesson 08, §2 "Scoring instances".

    Args:
        mask_ious_fn: a function of bool (D, H, W) and (G, H, W) masks; ``None`` when not
            answered yet.

    Returns:
        Whether it agrees with ``detection_metrics.mask_ious`` to 1e-9, empty masks included.

    >>> check_mask_ious(detection_metrics.mask_ious)
    ✅ Exercise 2 (mask IoU of instances): correct.
    Verdict(passed=True)
    """
    return judge(_MASK_IOUS, mask_ious_fn, FUNCTION, _mask_ious_problem)


def _mask_ious_problem(mask_ious_fn: Callable[[Any, Any], Any]) -> Problem:
    """What is wrong with the student's mask IoUs, or None."""
    pred = np.zeros((3, 4, 5), bool)
    true = np.zeros((2, 4, 5), bool)
    pred[0, :2, :2], pred[1, 1:, 2:], true[0, :2, :3], true[1, 2:, 3:] = True, True, True, True
    right = detection_metrics.mask_ious(pred, true)  # pred[2] is empty: a row of zeros
    try:
        got = np.asarray(call_student(mask_ious_fn, "mask_ious", pred.copy(), true.copy()), float)
    except ValueError as error:
        return str(error)
    if got.shape == right.T.shape and got.shape != right.shape:
        return f"shape {got.shape}: one row per *predicted* mask, one column per true mask."
    if got.shape != right.shape:
        return f"shape {got.shape}, expected (predicted masks, true masks) = {right.shape}."
    if not np.all(np.isfinite(got)):
        return "NaN where a mask is empty: the union is 0 there; give 0."
    inter = np.einsum("dhw,ghw->dg", pred, true).astype(float)
    over_true = inter / true.sum(axis=(1, 2))[None, :]
    if np.allclose(got, over_true):
        return "that divides by the true mask's area (recall-like); IoU divides by the union."
    return None if np.allclose(got, right, atol=1e-9) else "those are not the mask IoUs."


def check_grabcut(grabcut_fn: Callable[[Any, Any], Any] | None) -> Verdict:
    """Check ``grabcut(image, box) -> bool (H, W)`` on a generated pet and its box.

    Exercise of lesson 08, §3 "A box as a prompt: GrabCut".

    Args:
        grabcut_fn: a function of a uint8 (H, W, 3) picture and an xyxy box in pixels;
            ``None`` when not answered yet.

    Returns:
        Whether its mask agrees with ``prompts.grabcut_mask`` (mask IoU ≥ 0.9, GrabCut's
        start is random) on two generated pets.
    """
    return judge(_GRABCUT, grabcut_fn, FUNCTION, _grabcut_problem)


def _grabcut_problem(grabcut_fn: Callable[[Any, Any], Any]) -> Problem:
    """What is wrong with the student's GrabCut mask, or None."""
    for index in (3, 5):  # pets whose box leaves a frame of background
        scene = synthetic.make_scene(index)
        image = np.ascontiguousarray(scene["image"])
        box = mask_to_box(scene["segmentation_mask"][..., 0] != 2)  # pet or border
        right = prompts.grabcut_mask(image, box)
        try:
            got = np.asarray(call_student(grabcut_fn, "grabcut", image.copy(), box.copy()))
        except ValueError as error:
            detail = getattr(error, "detail", "")
            hint = " (cv2.grabCut wants an integer rect (x, y, w, h))" if "rect" in detail else ""
            return f"{error}{hint}"
        if got.shape != right.shape:
            return f"shape {got.shape}, expected one value per pixel {right.shape}."
        if got.dtype != bool and set(np.unique(got)) - {0, 1}:
            return "those are GrabCut's labels 0..3: keep GC_FGD (1) or GC_PR_FGD (3) as True."
        got = got.astype(bool)
        if not got.any():
            return ("the mask is empty: a rectangle start marks only *probable* foreground "
                    "(GC_PR_FGD); keep it too.")  # fmt: skip
        union = (got | right).sum()
        if (got & right).sum() / union < 0.9:
            return "the mask differs from GrabCut's: is the rect (x, y, width, height)?"
    return None
