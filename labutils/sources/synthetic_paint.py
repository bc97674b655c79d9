"""The colours of a synthetic scene: each breed's look, its fur, the background, the picture.

Every function draws from the NumPy ``Generator`` it is given, never from global state. Used
by :func:`labutils.sources.synthetic.make_scene`, the scenes that stand in for the photos when they
are absent (lesson 03, §4 "What is in the data").
"""

from __future__ import annotations

import math
from typing import NamedTuple

import cv2
import numpy as np

__all__ = ["Look", "breed_look", "composite", "noise", "paint_background", "paint_fur"]

# Fur colours, RGB 0..1: black, white, cream, ginger, brown, tan, grey, blue-grey, golden, chocolate
_FUR = np.array(
    [[25, 22, 22], [235, 232, 225], [225, 205, 165], [200, 120, 55], [120, 75, 40],
     [190, 150, 100], [130, 130, 135], [110, 120, 135], [215, 170, 90], [80, 50, 35]],
    np.float32,
) / 255  # fmt: skip
_PATTERNS = ("solid", "tabby", "patches", "points", "bib")


class Look(NamedTuple):
    """How one breed looks: fixed per breed, so the breed can be learned.

    Made by :func:`breed_look` for :func:`labutils.sources.synthetic.make_scene` (lesson 03, §4
    "What is in the data").
    """

    base: np.ndarray  # (3,) RGB 0..1
    second: np.ndarray  # (3,) RGB 0..1, for the pattern
    pattern: str  # one of _PATTERNS
    ears: str  # "pointy" or "floppy"
    muzzle: float  # snout length, in body lengths
    legs: float  # leg length, in body lengths
    fluff: float  # 0 (smooth) .. 1 (long fur)


def breed_look(rng: np.random.Generator, species: int) -> Look:
    """Draw a breed's look: two fur colours, a pattern, ears, muzzle, legs and fluff.

    Used by :func:`labutils.sources.synthetic.make_scene` (lesson 03, §4 "What is in the data"),
    which seeds ``rng`` with the breed, so every scene of a breed shares its look.

    Args:
        rng: the generator to draw from.
        species: 0 = cat (pointy ears, short muzzle), 1 = dog.

    >>> look = breed_look(np.random.default_rng(0), species=0)
    >>> look.ears, look.muzzle, look.base.shape
    ('pointy', 0.02, (3,))
    """
    base, second = _FUR[rng.choice(len(_FUR), size=2, replace=False)]
    is_cat = species == 0
    return Look(
        base=base,
        second=second,
        pattern=str(rng.choice(_PATTERNS)),
        ears="pointy" if is_cat or rng.random() < 0.35 else "floppy",
        muzzle=0.02 if is_cat else float(rng.uniform(0.05, 0.2)),
        legs=float(rng.uniform(0.28, 0.42) if is_cat else rng.uniform(0.2, 0.55)),
        fluff=float(rng.uniform(0, 1)),
    )


def noise(rng: np.random.Generator, height: int, width: int, cell: float) -> np.ndarray:
    """Smooth noise, float32 (H, W), about N(0, 1), with blobs about ``cell`` px wide.

    Used for fur tufts, patches and background texture by
    :func:`labutils.sources.synthetic.make_scene` (lesson 03, §4 "What is in the data").

    >>> noise(np.random.default_rng(0), 20, 30, cell=5).shape
    (20, 30)
    """
    grid = rng.standard_normal((int(height / cell) + 2, int(width / cell) + 2), np.float32)
    smooth = cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
    return smooth / max(float(smooth.std()), 1e-6)


def _coordinates(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel rows (H, 1) and columns (1, W), float32, for broadcasting."""
    return np.arange(height, dtype=np.float32)[:, None], np.arange(width, dtype=np.float32)[None]


def _fur_texture(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Streaky noise along a random direction, float32 (H, W), about N(0, 1)."""
    streaks = rng.random((height, width), np.float32)
    length = int(rng.integers(5, 13))
    kernel = np.zeros((length, length), np.float32)
    cv2.line(kernel, (0, length // 2), (length - 1, length // 2), 1.0)
    turn = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), rng.uniform(0, 180), 1)
    kernel = cv2.warpAffine(kernel, turn, (length, length))
    streaks = cv2.filter2D(streaks, -1, kernel / kernel.sum())
    return (streaks - streaks.mean()) / max(float(streaks.std()), 1e-6)


def _pattern(rng: np.random.Generator, look: Look, groups: dict[str, np.ndarray]) -> np.ndarray:
    """Where the second colour goes, float32 (H, W) in 0..1."""
    height, width = groups["all"].shape
    if look.pattern == "tabby":
        y, x = _coordinates(height, width)
        angle, period = rng.uniform(0, np.pi), rng.uniform(8, 18)
        phase = (x * math.cos(angle) + y * math.sin(angle)) / period
        phase += 0.35 * noise(rng, height, width, 30)
        return (np.sin(2 * np.pi * phase) > 0.2).astype(np.float32)
    if look.pattern == "patches":
        return (noise(rng, height, width, 40) > 0.6).astype(np.float32)
    if look.pattern == "points":  # darker face, ears, legs and tail, as in Siamese cats
        ends = groups["head"] | groups["leg"] | groups["tail"]
        return cv2.GaussianBlur(ends.astype(np.float32), (0, 0), 4)
    if look.pattern == "bib":
        return (groups["leg"] | groups["nose"]).astype(np.float32)
    return np.zeros((height, width), np.float32)


def paint_fur(
    rng: np.random.Generator, look: Look, groups: dict[str, np.ndarray], silhouette: np.ndarray
) -> np.ndarray:
    """Paint the animal's fur: pattern, shading from the outline, grain, eyes and nose.

    Used by :func:`labutils.sources.synthetic.make_scene` (lesson 03, §4 "What is in the data").

    Args:
        rng: the generator to draw from.
        look: the breed's :class:`Look`.
        groups: uint8 (H, W) 0/1 masks of the parts: ``"all"``, ``"head"``, ``"leg"``,
            ``"tail"``, ``"eye"``, ``"nose"`` (as
            :func:`labutils.sources.synthetic_animal.draw_animal` gives them).
        silhouette: uint8 (H, W), 1 inside the outline.

    Returns:
        float32 (H, W, 3), about 0..1, the colour everywhere (only used inside the outline).
    """
    height, width = silhouette.shape
    jitter = rng.uniform(0.85, 1.15, 3).astype(np.float32)
    base, second = look.base * jitter, look.second * jitter
    colour = base + (second - base) * _pattern(rng, look, groups)[..., None]
    depth = cv2.distanceTransform(silhouette, cv2.DIST_L2, 5)
    shading = 0.7 + 0.35 * np.minimum(depth / (0.05 * math.sqrt(depth.size)), 1)
    grain = 1 + (0.06 + 0.12 * look.fluff) * _fur_texture(rng, height, width)
    fur = colour * (shading * grain)[..., None]
    fur[groups["eye"] == 1] = rng.choice([[0.55, 0.65, 0.15], [0.75, 0.55, 0.1], [0.25, 0.15, 0.1]])
    fur[groups["nose"] == 1] = [0.12, 0.08, 0.08]
    return fur


def _random_colour(rng: np.random.Generator) -> np.ndarray:
    hsv = np.array([[[rng.uniform(0, 180), rng.uniform(0, 160), rng.uniform(40, 245)]]])
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)[0, 0] / np.float32(255)


def paint_background(rng: np.random.Generator, height: int, width: int, look: Look) -> np.ndarray:
    """Paint a background: gradient, floor, clutter and texture, sometimes in the pet's colours.

    Painted at half size and enlarged: it is out of focus anyway, and has a quarter of the
    pixels to paint. Used by :func:`labutils.sources.synthetic.make_scene` (lesson 03, §4 "What is
    in the data").

    Returns:
        float32 (H, W, 3), about 0..1.

    >>> rng = np.random.default_rng(0)
    >>> paint_background(rng, 30, 40, breed_look(rng, species=1)).shape
    (30, 40, 3)
    """
    full_size = (width, height)
    height, width = (height + 1) // 2, (width + 1) // 2
    y, x = _coordinates(height, width)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (x * math.cos(angle) + y * math.sin(angle)) / math.hypot(height, width) + 0.5
    background = (1 - ramp[..., None]) * _random_colour(rng) + ramp[..., None] * _random_colour(rng)
    if rng.random() < 0.5:  # a floor or table edge
        floor = y > height * rng.uniform(0.5, 0.85) + x * rng.uniform(-0.2, 0.2)
        background[floor] = _random_colour(rng) * rng.uniform(0.8, 1.0)
    lookalike = rng.random() < 0.35  # clutter in the pet's colours, so colour alone won't do
    for _ in range(int(rng.integers(4, 16))):
        in_pet_colour = lookalike and rng.random() < 0.5
        colour = rng.choice([look.base, look.second]) if in_pet_colour else _random_colour(rng)
        _draw_clutter(rng, background, colour)
    texture = _fur_texture(rng, height, width) if lookalike else noise(rng, height, width, 2)
    background *= (1 + 0.12 * noise(rng, height, width, 30) + 0.06 * texture)[..., None]
    background = cv2.GaussianBlur(background, (0, 0), rng.uniform(0.2, 1.0))
    return cv2.resize(background, full_size, interpolation=cv2.INTER_LINEAR)


def _draw_clutter(rng: np.random.Generator, canvas: np.ndarray, colour: np.ndarray) -> None:
    """Draw one square, ellipse, polygon or line of ``colour`` onto ``canvas``, in place."""
    height, width = canvas.shape[:2]
    size = rng.uniform(0.08, 0.5) * min(height, width)
    centre = rng.uniform(0, 1, 2) * [width, height]
    x, y = int(centre[0]), int(centre[1])
    colour = tuple(float(c) for c in colour * rng.uniform(0.85, 1.1))
    shape = rng.choice(["square", "ellipse", "polygon", "line"])
    if shape == "ellipse":
        axes = (int(size), int(size * rng.uniform(0.3, 1)))
        cv2.ellipse(canvas, (x, y), axes, rng.uniform(0, 180), 0, 360, colour, -1)
    elif shape == "line":
        dx, dy = (rng.standard_normal(2) * size * 2).astype(int)
        cv2.line(canvas, (x, y), (x + dx, y + dy), colour, int(rng.integers(1, 6)))
    else:
        turn = rng.uniform(0, np.pi)
        corners = rng.uniform(0, 2 * np.pi, int(rng.integers(3, 7)))
        angles = turn + np.arange(4) * np.pi / 2 if shape == "square" else np.sort(corners)
        points = centre + size * np.stack([np.cos(angles), np.sin(angles)], axis=1)
        cv2.fillPoly(canvas, [points.astype(np.int32)], colour)


def composite(
    rng: np.random.Generator, background: np.ndarray, fur: np.ndarray, silhouette: np.ndarray
) -> np.ndarray:
    """Lay the fur over the background with a soft edge; add sensor noise, exposure and a cast.

    Used by :func:`labutils.sources.synthetic.make_scene` (lesson 03, §4 "What is in the data").

    Args:
        rng: the generator to draw from.
        background: float32 (H, W, 3), from :func:`paint_background`.
        fur: float32 (H, W, 3), from :func:`paint_fur`.
        silhouette: uint8 (H, W), 1 inside the outline.

    Returns:
        The picture, uint8 (H, W, 3).

    >>> grey = np.full((4, 6, 3), 0.5, np.float32)
    >>> picture = composite(np.random.default_rng(0), grey, grey, np.ones((4, 6), np.uint8))
    >>> picture.dtype, picture.shape
    (dtype('uint8'), (4, 6, 3))
    """
    alpha = cv2.GaussianBlur(silhouette.astype(np.float32), (0, 0), 0.8)[..., None]
    image = background + (fur - background) * alpha
    sensor = rng.random(image.shape, np.float32) - 0.5
    image += sensor * rng.uniform(0.02, 0.08)
    exposure, cast = 255 * rng.uniform(0.8, 1.15), 255 * rng.uniform(-0.05, 0.05, 3) + 0.5
    image *= exposure
    image += cast.astype(np.float32)  # + 0.5: rounds to nearest when cast to uint8 below
    return np.clip(image, 0, 255, out=image).astype(np.uint8)
