"""Instances: synthetic pictures of several pets, and splitting a pet mask into pets.

Each pet is cut out of a procedural scene of :mod:`labutils.sources.synthetic`, so the pictures need
no data download. Taught in lesson 08, §1 "One mask, several pets".
"""

from __future__ import annotations

import cv2
import numpy as np

from labutils.box_masks import mask_to_box
from labutils.sources import synthetic
from labutils.vocabulary import CLASS_NAMES

__all__ = ["make_multi_pet_scene", "split_touching"]

_PET, _BACKGROUND = CLASS_NAMES.index("pet"), CLASS_NAMES.index("background")


def _largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 8-connected blob of a bool mask (drops crumbs left by resizing)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), 8)
    if count <= 2:
        return mask
    return labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))


def _cut_out_pet(index: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic scene ``index``'s pet cropped to its box and scaled to ``height`` rows."""
    scene = synthetic.make_scene(index)
    pet = scene["segmentation_mask"][..., 0] == _PET + 1  # (H, W) bool, no border (trimap 1..3)
    x0, y0, x1, y1 = mask_to_box(pet).astype(int)
    width = max(1, round((x1 - x0) * height / (y1 - y0)))
    image = cv2.resize(scene["image"][y0:y1, x0:x1], (width, height), interpolation=cv2.INTER_AREA)
    mask = cv2.resize(
        pet[y0:y1, x0:x1].astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST
    )
    return image, _largest_component(mask.astype(bool))


def _touching_offset(placed: np.ndarray, pet: np.ndarray, start: int) -> int:
    """The column, sliding left from ``start``, where ``pet`` first overlaps ``placed`` a bit."""
    h, w = pet.shape
    for x0 in range(start, -1, -1):
        overlap = (placed[-h:, x0 : x0 + w] & pet).sum()
        if overlap >= 0.03 * pet.sum():
            return x0
    return 0


def make_multi_pet_scene(
    index: int, num_pets: int = 2, touching: bool = False, size: tuple[int, int] = (160, 320)
) -> dict[str, np.ndarray]:
    """Put the pets of synthetic scenes ``index``, ``index + 1``, … side by side in one picture.

    Taught in lesson 08, §1 "One mask, several pets".

    >>> scene = make_multi_pet_scene(0, num_pets=2)
    >>> scene["image"].shape, np.unique(scene["instances"]).tolist()
    ((160, 320, 3), [0, 1, 2])

    Args:
        index: the first synthetic scene to take a pet from (0 or more).
        num_pets: how many pets, 2 or more.
        touching: slide each pet against the one before until they overlap a little (the later
            pet hides part of the earlier one); otherwise leave a gap between their boxes.
        size: (height, width) of the picture.

    Returns:
        ``image`` uint8 (H, W, 3); ``instances`` uint8 (H, W): 0 background, k for pet k
        (1..num_pets, left to right); ``semantic`` uint8 (H, W): the lessons' class labels
        (``vocabulary.CLASS_NAMES``: pet or background, no border).

    Raises:
        ValueError: fewer than 2 pets, or a negative index.
    """
    if num_pets < 2 or index < 0:
        raise ValueError(f"expected num_pets >= 2 and index >= 0, got {num_pets} and {index}.")
    height, width = size
    pets = [_cut_out_pet(index + k, int(0.75 * height)) for k in range(num_pets)]
    gap = int(0.06 * width)
    strip_width = sum(m.shape[1] for _, m in pets) + gap * num_pets
    strip = np.zeros((pets[0][1].shape[0], strip_width, 3), np.uint8)  # the pets in a row
    ids = np.zeros(strip.shape[:2], np.uint8)
    x = 0
    for k, (pet_image, pet_mask) in enumerate(pets, start=1):
        if touching and k > 1:
            x = _touching_offset(ids > 0, pet_mask, x)
        w = pet_mask.shape[1]
        strip[:, x : x + w][pet_mask], ids[:, x : x + w][pet_mask] = pet_image[pet_mask], k
        x += w + gap
    used = int(np.flatnonzero(ids.any(axis=0))[-1]) + 1
    scale = min(1.0, 0.94 * width / used)
    h, w = max(1, round(ids.shape[0] * scale)), max(1, round(used * scale))
    strip = cv2.resize(strip[:, :used], (w, h), interpolation=cv2.INTER_AREA)
    ids = cv2.resize(ids[:, :used], (w, h), interpolation=cv2.INTER_NEAREST)
    rng = np.random.default_rng(index)
    left, right = rng.uniform(60, 200, 3), rng.uniform(60, 200, 3)
    image = left + (right - left) * np.linspace(0, 1, width)[None, :, None] * np.ones(
        (height, 1, 1)
    )
    instances = np.zeros((height, width), np.uint8)
    y0, x0 = height - h - int(0.05 * height), (width - w) // 2
    image[y0 : y0 + h, x0 : x0 + w][ids > 0] = strip[ids > 0]
    instances[y0 : y0 + h, x0 : x0 + w] = ids
    semantic = np.where(instances > 0, _PET, _BACKGROUND).astype(np.uint8)
    return {"image": image.astype(np.uint8), "instances": instances, "semantic": semantic}


def split_touching(
    pet_mask: np.ndarray, image: np.ndarray, peak_fraction: float = 0.5
) -> np.ndarray:
    """Split a pet mask into instances: distance transform, one seed per core, watershed.

    The seeds are the blobs where the distance to the background exceeds ``peak_fraction`` of
    its maximum (the pets' "cores"); OpenCV's watershed grows them over the image's gradient
    until they meet, and the result is kept inside the mask (only pets compete for its pixels).
    Taught in lesson 08, §1 "One mask, several pets".

    >>> scene = make_multi_pet_scene(20, num_pets=2, touching=True)
    >>> int(split_touching(scene["semantic"] == 0, scene["image"]).max())
    2

    Args:
        pet_mask: bool (H, W), true on pets.
        image: uint8 (H, W, 3), the picture (its edges guide where two pets meet).
        peak_fraction: in (0, 1): higher seeds fewer, smaller cores.

    Returns:
        uint8 (H, W): 0 background (and the one-pixel lines where pets meet), k for pet k.

    Raises:
        ValueError: a mask and an image of different sizes, or a fraction outside (0, 1).
    """
    if pet_mask.shape != image.shape[:2] or image.dtype != np.uint8 or not 0 < peak_fraction < 1:
        raise ValueError(
            f"expected a (H, W) mask, a uint8 (H, W, 3) image and 0 < peak_fraction < 1, got "
            f"{pet_mask.shape}, {image.dtype} {image.shape} and {peak_fraction}."
        )
    mask = pet_mask.astype(np.uint8)
    distance = cv2.distanceTransform(mask, cv2.DIST_L2, 5)  # (H, W) float32
    cores = (distance > peak_fraction * distance.max()).astype(np.uint8)
    _, seeds = cv2.connectedComponents(cores, connectivity=8)  # 0 off the cores, 1.. on them
    basins = cv2.watershed(np.ascontiguousarray(image), seeds.astype(np.int32))  # -1: lines
    return np.where(pet_mask & (basins > 0), basins, 0).astype(np.uint8)
