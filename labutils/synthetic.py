"""Procedural pet-like scenes: the data source that needs no download.

These are NOT photos. Each scene is a cat-like or dog-like silhouette (body, head, ears, legs,
tail; standing, sitting, lying, or a head-and-shoulders portrait) with fur-like texture, over
a cluttered background that sometimes borrows the animal's colours. The trimap has the real
one's meaning: 1 = pet, 2 = background, 3 = a thin border band around the outline.

A scene is a pure function of its index (a NumPy ``Generator`` seeded with it; no global random
state), so scene 7 is the same picture on every run and machine (given the pinned NumPy and
OpenCV). Splits: ``"train"`` is scenes 0..599, ``"test"`` is scenes 600..799.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import cv2
import numpy as np

from labutils.data import BREED_NAMES

__all__ = ["make_scene", "scene_indices"]

_SEED = 20_240_611
_SPLITS = {"train": range(0, 600), "test": range(600, 800)}
# Fur colours, RGB 0..1: black, white, cream, ginger, brown, tan, grey, blue-grey, golden, chocolate
_FUR = np.array(
    [[25, 22, 22], [235, 232, 225], [225, 205, 165], [200, 120, 55], [120, 75, 40],
     [190, 150, 100], [130, 130, 135], [110, 120, 135], [215, 170, 90], [80, 50, 35]],
    np.float32,
) / 255  # fmt: skip
_PATTERNS = ("solid", "tabby", "patches", "points", "bib")
_POSES = ("stand", "sit", "lie", "portrait")
# Border band width / sqrt(image area). The real trimaps: median 0.046 (10th-90th pct 0.034-0.08).
_BORDER_WIDTH = (0.03, 0.06)


class _Look(NamedTuple):
    """How one breed looks: fixed per breed, so the breed can be learned."""

    base: np.ndarray  # (3,) RGB 0..1
    second: np.ndarray  # (3,) RGB 0..1, for the pattern
    pattern: str
    ears: str  # "pointy" or "floppy"
    muzzle: float  # snout length, in body lengths
    legs: float  # leg length, in body lengths
    fluff: float  # 0 (smooth) .. 1 (long fur)


class _Part(NamedTuple):
    group: str  # "body", "head" (head, ears, muzzle), "leg", "tail", "eye", "nose"
    points: np.ndarray  # (N, 2) x, y in body lengths; y points down
    width: float  # 0: a filled polygon; else a stroke this wide, in body lengths


def scene_indices(split: str) -> range:
    """Return the scene indices of ``"train"`` (0..599) or ``"test"`` (600..799).

    Raises:
        ValueError: another split name.
    """
    if split not in _SPLITS:
        raise ValueError(f"Synthetic splits are {list(_SPLITS)}, got {split!r}.")
    return _SPLITS[split]


def make_scene(index: int) -> dict:
    """Draw synthetic scene number ``index`` (the same scene every time).

    Returns:
        A dict like a TFDS oxford_iiit_pet element: ``image`` uint8 (H, W, 3) with H, W in
        195..400; ``segmentation_mask`` uint8 (H, W, 1), 1 pet / 2 background / 3 border;
        ``label`` int 0..36 and ``species`` int (0 cat, 1 dog) consistent with
        ``data.BREED_NAMES``; ``file_name`` str, e.g. ``"Bengal_synthetic_7.png"``;
        ``head_bbox`` float32 (4,) ``[ymin, xmin, ymax, xmax]`` in 0..1 (zeros when the head is
        outside the picture, as TFDS marks a missing box).

    Raises:
        ValueError: a negative index.
    """
    if index < 0:
        raise ValueError(f"Scene indices start at 0, got {index}.")
    rng = np.random.default_rng((_SEED, index))
    height, width = _canvas_size(rng)
    label = int(rng.integers(len(BREED_NAMES)))
    species = 0 if BREED_NAMES[label][0].isupper() else 1
    look = _breed_look(label)
    background = _paint_background(rng, height, width, look)
    for _ in range(20):  # a placement that leaves enough of the pet inside the picture
        parts = _place_animal(rng, _animal_parts(rng, species, look), height, width)
        groups = _rasterize(parts, height, width)
        silhouette = _roughen(rng, groups["all"], look.fluff)
        trimap = _trimap(rng, silhouette)
        if (trimap == 1).mean() > 0.04:
            break
    image = _composite(rng, background, _paint_fur(rng, look, groups, silhouette), silhouette)
    return {
        "image": image,  # (H, W, 3) uint8
        "segmentation_mask": trimap[..., None],  # (H, W, 1) uint8, values 1..3
        "label": label,
        "species": species,
        "file_name": f"{BREED_NAMES[label]}_synthetic_{index}.png",
        "head_bbox": _bbox(groups["head"]),
    }


# --- the animal ----------------------------------------------------------------------------


def _canvas_size(rng: np.random.Generator) -> tuple[int, int]:
    """A photo-like size: long side 260..400 px, aspect ratio 0.75..1.33 (often 4:3)."""
    long_side = int(rng.integers(260, 401))
    aspect = rng.choice([0.75, 1.33]) if rng.random() < 0.5 else np.exp(rng.uniform(-0.29, 0.29))
    short_side = round(long_side * min(aspect, 1 / aspect))
    return (long_side, short_side) if aspect < 1 else (short_side, long_side)


def _breed_look(label: int) -> _Look:
    rng = np.random.default_rng((_SEED, 1000 + label))  # per breed, not per scene
    base, second = _FUR[rng.choice(len(_FUR), size=2, replace=False)]
    is_cat = BREED_NAMES[label][0].isupper()
    return _Look(
        base=base,
        second=second,
        pattern=str(rng.choice(_PATTERNS)),
        ears="pointy" if is_cat or rng.random() < 0.35 else "floppy",
        muzzle=0.02 if is_cat else float(rng.uniform(0.05, 0.2)),
        legs=float(rng.uniform(0.28, 0.42) if is_cat else rng.uniform(0.2, 0.55)),
        fluff=float(rng.uniform(0, 1)),
    )


def _ellipse(cx: float, cy: float, ax: float, ay: float, angle: float = 0.0) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    x, y = ax * np.cos(t), ay * np.sin(t)
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    return np.stack([cx + c * x - s * y, cy + s * x + c * y], axis=1)


def _animal_parts(rng: np.random.Generator, species: int, look: _Look) -> tuple[str, list[_Part]]:
    """The pose, and the parts in body lengths, facing right."""
    pose = str(rng.choice(_POSES, p=[0.3, 0.25, 0.15, 0.3]))
    if pose == "portrait":
        return pose, _portrait_parts(rng, species, look)
    build = {"stand": _standing_body, "sit": _sitting_body, "lie": _lying_body}[pose]
    body, head_at = build(rng, look)
    head_radius = rng.uniform(0.13, 0.17)
    tail_length = rng.uniform(0.45, 0.7) if species == 0 else rng.uniform(0.12, 0.4)
    tail = _tail(rng, body[0].points.mean(axis=0) - [0.42, 0.05], tail_length, pose)
    return pose, body + _side_head(rng, look, head_at, head_radius) + [tail]


def _leg(top: tuple[float, float], length: float, swing: float, width: float) -> list[_Part]:
    foot = np.array([top[0] + swing, top[1] + length])
    stroke = _Part("leg", np.array([top, foot]), width)
    return [
        stroke,
        _Part("leg", _ellipse(foot[0] + width * 0.3, foot[1], width * 0.7, width * 0.4), 0),
    ]


def _standing_body(rng: np.random.Generator, look: _Look) -> tuple[list[_Part], np.ndarray]:
    depth = rng.uniform(0.17, 0.23)
    parts = [_Part("body", _ellipse(0, 0, 0.45, depth, rng.uniform(-5, 5)), 0)]
    for x in (-0.32, -0.24, 0.26, 0.34):  # hind far, hind near, front far, front near
        parts += _leg((x, depth * 0.3), look.legs + depth * 0.7, rng.uniform(-0.12, 0.12), 0.085)
    neck = np.array([[0.3, -0.05], [0.5, -0.25]])
    return parts + [_Part("body", neck, 0.17)], np.array([0.52, -0.3])


def _sitting_body(rng: np.random.Generator, look: _Look) -> tuple[list[_Part], np.ndarray]:
    lean = rng.uniform(-70, -50)
    parts = [
        _Part("body", _ellipse(0, 0, 0.38, 0.19, lean), 0),
        _Part("body", _ellipse(-0.1, 0.25, 0.2, 0.14, -20), 0),  # folded haunch
    ]
    for x in (0.13, 0.2):  # front legs, straight down
        parts += _leg((x, -0.05), 0.25 + 0.5 * look.legs, rng.uniform(-0.03, 0.05), 0.08)
    return parts, np.array([0.22, -0.45])


def _lying_body(rng: np.random.Generator, look: _Look) -> tuple[list[_Part], np.ndarray]:
    parts = [_Part("body", _ellipse(0, 0.1, 0.48, 0.15, rng.uniform(-4, 4)), 0)]
    for y in (0.2, 0.25):  # front legs stretched forward on the ground
        parts += _leg((0.3, y), 0.0, rng.uniform(0.2, 0.3), 0.08)
    parts.append(_Part("body", _ellipse(-0.3, 0.2, 0.2, 0.09), 0))  # hind leg along the body
    return parts, np.array([0.5, -0.12])


def _side_head(rng: np.random.Generator, look: _Look, at: np.ndarray, r: float) -> list[_Part]:
    x, y = at
    parts = [_Part("head", _ellipse(x, y, r * 1.05, r * 0.95, rng.uniform(-10, 10)), 0)]
    if look.muzzle > 0.03:
        parts.append(_Part("head", _ellipse(x + r * 0.8, y + r * 0.3, look.muzzle, r * 0.5), 0))
    for angle in (-115, -70):  # the far ear, then the near one
        parts.append(_ear(look, at, r, angle))
    nose_x = x + r * 0.8 + max(look.muzzle, r * 0.2)
    parts.append(_Part("eye", _ellipse(x + r * 0.45, y - r * 0.2, r * 0.16, r * 0.12), 0))
    parts.append(_Part("nose", _ellipse(nose_x, y + r * 0.15, r * 0.14, r * 0.1), 0))
    return parts


def _ear(look: _Look, centre: np.ndarray, r: float, angle: float) -> _Part:
    a = np.radians(angle)
    if look.ears == "floppy":  # hangs beside the head
        x, y = centre + r * np.array([np.cos(a) * 0.7, 0.35])
        return _Part("head", _ellipse(x, y, r * 0.33, r * 0.8, np.degrees(a) + 100), 0)
    base = [centre + r * 0.85 * np.array([np.cos(a + d), np.sin(a + d)]) for d in (-0.45, 0.45)]
    tip = centre + r * 1.75 * np.array([np.cos(a), np.sin(a)])
    return _Part("head", np.array([base[0], tip, base[1]]), 0)


def _tail(rng: np.random.Generator, root: np.ndarray, length: float, pose: str) -> _Part:
    t = np.linspace(0, 1, 12)
    if pose == "sit":  # from the haunch, along the floor
        return _Part("tail", np.array([-0.25, 0.3]) + length * t[:, None] * [-0.9, 0.3], 0.055)
    curl = 2 * (rng.uniform(-1.2, 1.2) if pose != "lie" else rng.uniform(-0.3, 0.3))
    bend = np.stack([-np.cos(curl * t), -np.sin(curl * t)], axis=1)  # a curve that turns up
    return _Part("tail", root + length * np.cumsum(bend, axis=0) / len(t), 0.055)


def _portrait_parts(rng: np.random.Generator, species: int, look: _Look) -> list[_Part]:
    """A frontal head-and-shoulders close-up, as in many of the real photos."""
    r = 0.3
    parts = [
        _Part("body", _ellipse(0, 0.85, 0.55, 0.6), 0),  # chest and shoulders
        _Part("body", _ellipse(0, 0.3, 0.22, 0.3), 0),  # neck
        _Part("head", _ellipse(0, 0, r, r * rng.uniform(0.85, 1.0)), 0),
    ]
    parts += [_ear(look, np.zeros(2), r, angle) for angle in (-125, -55)]
    if species == 1:
        parts.append(_Part("head", _ellipse(0, r * 0.45, r * 0.45, r * 0.38), 0))
    for side in (-1, 1):
        parts.append(_Part("eye", _ellipse(side * r * 0.38, -r * 0.1, r * 0.14, r * 0.11), 0))
    parts.append(_Part("nose", _ellipse(0, r * 0.42, r * 0.13, r * 0.09), 0))
    return parts


def _place_animal(
    rng: np.random.Generator, posed: tuple[str, list[_Part]], height: int, width: int
) -> list[_Part]:
    """Scale, turn, mirror and move the parts into pixels; sometimes cut by the picture's edge."""
    pose, parts = posed
    points = np.concatenate([p.points for p in parts])
    low, high = points.min(axis=0), points.max(axis=0)
    is_portrait = pose == "portrait"
    zoom = rng.uniform(1.0, 1.5) if is_portrait else rng.uniform(0.7, 1.3)
    scale = zoom * min(height, width) / (high - low).max()
    angle = np.radians(rng.uniform(-15, 15))
    c, s = np.cos(angle), np.sin(angle)
    turn = np.array([[c, -s], [s, c]]) * [rng.choice([-1, 1]), 1] * scale
    span = (high - low) * scale
    corner = rng.uniform(0, 1, 2) * (np.array([width, height]) - span)
    if is_portrait:  # the chest leaves the picture at the bottom
        corner[1] = height - span[1] * rng.uniform(0.75, 0.95)
    elif rng.random() < 0.25:  # partly outside the picture, as in close-up photos
        corner += rng.choice([-1, 1], 2) * rng.uniform(0.1, 0.35, 2) * span
    offset = corner + span / 2 - ((low + high) / 2) @ turn.T
    return [_Part(p.group, p.points @ turn.T + offset, p.width * scale) for p in parts]


def _rasterize(parts: list[_Part], height: int, width: int) -> dict[str, np.ndarray]:
    """Draw every group into a uint8 (H, W) 0/1 mask; ``"all"`` is their union."""
    names = ("all", "body", "head", "leg", "tail", "eye", "nose")
    groups = {name: np.zeros((height, width), np.uint8) for name in names}
    for part in parts:
        canvas = groups[part.group]
        pixels = np.round(part.points * 4).astype(np.int32)  # 2 bits of sub-pixel precision
        if part.width == 0:
            cv2.fillPoly(canvas, [pixels], 1, cv2.LINE_8, shift=2)
        else:
            cv2.polylines(
                canvas, [pixels], False, 1, max(1, round(part.width)), cv2.LINE_8, shift=2
            )
    for name in names[1:]:
        groups["all"] |= groups[name]
    return groups


def _coordinates(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel rows (H, 1) and columns (1, W), float32, for broadcasting."""
    return np.arange(height, dtype=np.float32)[:, None], np.arange(width, dtype=np.float32)[None]


def _noise(rng: np.random.Generator, height: int, width: int, cell: float) -> np.ndarray:
    """Smooth noise, float32 (H, W), about N(0, 1), with blobs about ``cell`` px wide."""
    grid = rng.standard_normal((int(height / cell) + 2, int(width / cell) + 2), np.float32)
    smooth = cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
    return smooth / max(float(smooth.std()), 1e-6)


def _roughen(rng: np.random.Generator, mask: np.ndarray, fluff: float) -> np.ndarray:
    """Give the outline fur tufts: more, and longer, for fluffier breeds."""
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 1.5 + 2 * fluff)
    near_edge = np.minimum(soft, 1 - soft)  # 0 away from the outline, 0.5 on it
    tufts = _noise(rng, *mask.shape, cell=3 + 3 * fluff) * near_edge * (0.5 + fluff)
    return ((soft + tufts) > 0.5).astype(np.uint8)


def _trimap(rng: np.random.Generator, silhouette: np.ndarray) -> np.ndarray:
    """1 = pet, 2 = background, 3 = a band about as wide as the real trimaps' (4.6 % of size)."""
    half = rng.uniform(*_BORDER_WIDTH) * np.sqrt(silhouette.size) / 2
    inside = cv2.distanceTransform(silhouette, cv2.DIST_L2, 5)
    outside = cv2.distanceTransform(1 - silhouette, cv2.DIST_L2, 5)
    trimap = np.where(silhouette == 1, 1, 2).astype(np.uint8)
    trimap[((silhouette == 1) & (inside <= half)) | ((silhouette == 0) & (outside <= half))] = 3
    return trimap


def _bbox(mask: np.ndarray) -> np.ndarray:
    """``[ymin, xmin, ymax, xmax]`` of a mask in 0..1, float32 (4,); zeros when empty."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return np.zeros(4, np.float32)
    height, width = mask.shape
    box = [rows[0] / height, cols[0] / width, (rows[-1] + 1) / height, (cols[-1] + 1) / width]
    return np.array(box, np.float32)


# --- colours and textures ------------------------------------------------------------------


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


def _pattern(rng: np.random.Generator, look: _Look, groups: dict[str, np.ndarray]) -> np.ndarray:
    """Where the second colour goes, float32 (H, W) in 0..1."""
    height, width = groups["all"].shape
    if look.pattern == "tabby":
        y, x = _coordinates(height, width)
        angle, period = rng.uniform(0, np.pi), rng.uniform(8, 18)
        phase = (x * math.cos(angle) + y * math.sin(angle)) / period
        phase += 0.35 * _noise(rng, height, width, 30)
        return (np.sin(2 * np.pi * phase) > 0.2).astype(np.float32)
    if look.pattern == "patches":
        return (_noise(rng, height, width, 40) > 0.6).astype(np.float32)
    if look.pattern == "points":  # darker face, ears, legs and tail, as in Siamese cats
        ends = groups["head"] | groups["leg"] | groups["tail"]
        return cv2.GaussianBlur(ends.astype(np.float32), (0, 0), 4)
    if look.pattern == "bib":
        return (groups["leg"] | groups["nose"]).astype(np.float32)
    return np.zeros((height, width), np.float32)


def _paint_fur(
    rng: np.random.Generator, look: _Look, groups: dict[str, np.ndarray], silhouette: np.ndarray
) -> np.ndarray:
    """The animal's colours everywhere, float32 (H, W, 3), about 0..1 (used inside the outline)."""
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


def _paint_background(rng: np.random.Generator, height: int, width: int, look: _Look) -> np.ndarray:
    """Gradient, floor, clutter and texture; sometimes in the pet's colours. float32 (H, W, 3).

    Painted at half size and enlarged: it is out of focus anyway, and it takes a quarter the time.
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
    texture = _fur_texture(rng, height, width) if lookalike else _noise(rng, height, width, 2)
    background *= (1 + 0.12 * _noise(rng, height, width, 30) + 0.06 * texture)[..., None]
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


def _composite(
    rng: np.random.Generator, background: np.ndarray, fur: np.ndarray, silhouette: np.ndarray
) -> np.ndarray:
    """Lay the fur over the background with a soft edge; add camera-like noise. uint8 (H, W, 3)."""
    alpha = cv2.GaussianBlur(silhouette.astype(np.float32), (0, 0), 0.8)[..., None]
    image = background + (fur - background) * alpha
    noise = rng.random(image.shape, np.float32) - 0.5  # sensor noise
    image += noise * rng.uniform(0.02, 0.08)
    exposure, cast = 255 * rng.uniform(0.8, 1.15), 255 * rng.uniform(-0.05, 0.05, 3) + 0.5
    image *= exposure
    image += cast.astype(np.float32)  # + 0.5: rounds to nearest when cast to uint8 below
    return np.clip(image, 0, 255, out=image).astype(np.uint8)
