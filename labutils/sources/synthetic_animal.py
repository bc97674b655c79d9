"""The animal of a synthetic scene: its pose and parts, silhouette, trimap and head box.

A cat-like or dog-like silhouette (body, head, ears, legs, tail; standing, sitting, lying, or a
head-and-shoulders portrait) with fur tufts on the outline, and a trimap with the real one's
meaning: 1 = pet, 2 = background, 3 = a thin border band. Every function draws from the NumPy
``Generator`` it is given. Used by :func:`labutils.sources.synthetic.make_scene` (lesson 03, §4
"What is in the data").
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from labutils.sources.synthetic_paint import Look, noise

__all__ = ["Animal", "draw_animal"]

_POSES = ("stand", "sit", "lie", "portrait")
# Border band width / sqrt(image area), drawn per scene: a band like the real trimaps' border.
_BORDER_WIDTH = (0.03, 0.06)
#: The part groups that :func:`draw_animal` rasterizes; ``"all"`` is their union.
_GROUPS = ("all", "body", "head", "leg", "tail", "eye", "nose")


class _Part(NamedTuple):
    group: str  # one of _GROUPS but "all"
    points: np.ndarray  # (N, 2) x, y in body lengths; y points down
    width: float  # 0: a filled polygon; else a stroke this wide, in body lengths


class Animal(NamedTuple):
    """One drawn animal, in pixels of the scene: what :func:`draw_animal` returns.

    Used by :func:`labutils.sources.synthetic.make_scene` (lesson 03, §4 "What is in the data").
    """

    groups: dict[str, np.ndarray]  # uint8 (H, W) 0/1 per part group, and "all"
    silhouette: np.ndarray  # uint8 (H, W): 1 inside the outline (with fur tufts)
    trimap: np.ndarray  # uint8 (H, W): 1 pet, 2 background, 3 border
    head_bbox: np.ndarray  # float32 (4,) [ymin, xmin, ymax, xmax] in 0..1; zeros if cut off


def draw_animal(
    rng: np.random.Generator, species: int, look: Look, height: int, width: int
) -> Animal:
    """Pose, place and rasterize an animal so that enough of it lies inside the picture.

    Used by :func:`labutils.sources.synthetic.make_scene` (lesson 03, §4 "What is in the data").

    Args:
        rng: the generator to draw from.
        species: 0 = cat (longer tail), 1 = dog (a muzzle in portraits).
        look: the breed's :class:`labutils.sources.synthetic_paint.Look`.
        height: H, the picture's height in pixels.
        width: W, its width.

    Returns:
        The :class:`Animal`; the pet covers more than 4 % of the picture unless 20 placements
        in a row left less inside it.

    >>> from labutils.sources.synthetic_paint import breed_look
    >>> rng = np.random.default_rng(0)
    >>> animal = draw_animal(rng, 0, breed_look(rng, species=0), 60, 80)
    >>> animal.trimap.shape, sorted(np.unique(animal.trimap).tolist())
    ((60, 80), [1, 2, 3])
    """
    for _ in range(20):  # a placement that leaves enough of the pet inside the picture
        parts = _place_animal(rng, _animal_parts(rng, species, look), height, width)
        groups = _rasterize(parts, height, width)
        silhouette = _roughen(rng, groups["all"], look.fluff)
        trimap = _trimap(rng, silhouette)
        if (trimap == 1).mean() > 0.04:
            break
    return Animal(groups, silhouette, trimap, _bbox(groups["head"]))


def _ellipse(cx: float, cy: float, ax: float, ay: float, angle: float = 0.0) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    x, y = ax * np.cos(t), ay * np.sin(t)
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    return np.stack([cx + c * x - s * y, cy + s * x + c * y], axis=1)


def _animal_parts(rng: np.random.Generator, species: int, look: Look) -> tuple[str, list[_Part]]:
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


def _standing_body(rng: np.random.Generator, look: Look) -> tuple[list[_Part], np.ndarray]:
    depth = rng.uniform(0.17, 0.23)
    parts = [_Part("body", _ellipse(0, 0, 0.45, depth, rng.uniform(-5, 5)), 0)]
    for x in (-0.32, -0.24, 0.26, 0.34):  # hind far, hind near, front far, front near
        parts += _leg((x, depth * 0.3), look.legs + depth * 0.7, rng.uniform(-0.12, 0.12), 0.085)
    neck = np.array([[0.3, -0.05], [0.5, -0.25]])
    return parts + [_Part("body", neck, 0.17)], np.array([0.52, -0.3])


def _sitting_body(rng: np.random.Generator, look: Look) -> tuple[list[_Part], np.ndarray]:
    lean = rng.uniform(-70, -50)
    parts = [
        _Part("body", _ellipse(0, 0, 0.38, 0.19, lean), 0),
        _Part("body", _ellipse(-0.1, 0.25, 0.2, 0.14, -20), 0),  # folded haunch
    ]
    for x in (0.13, 0.2):  # front legs, straight down
        parts += _leg((x, -0.05), 0.25 + 0.5 * look.legs, rng.uniform(-0.03, 0.05), 0.08)
    return parts, np.array([0.22, -0.45])


def _lying_body(rng: np.random.Generator, look: Look) -> tuple[list[_Part], np.ndarray]:
    parts = [_Part("body", _ellipse(0, 0.1, 0.48, 0.15, rng.uniform(-4, 4)), 0)]
    for y in (0.2, 0.25):  # front legs stretched forward on the ground
        parts += _leg((0.3, y), 0.0, rng.uniform(0.2, 0.3), 0.08)
    parts.append(_Part("body", _ellipse(-0.3, 0.2, 0.2, 0.09), 0))  # hind leg along the body
    return parts, np.array([0.5, -0.12])


def _side_head(rng: np.random.Generator, look: Look, at: np.ndarray, r: float) -> list[_Part]:
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


def _ear(look: Look, centre: np.ndarray, r: float, angle: float) -> _Part:
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


def _portrait_parts(rng: np.random.Generator, species: int, look: Look) -> list[_Part]:
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
    groups = {name: np.zeros((height, width), np.uint8) for name in _GROUPS}
    for part in parts:
        canvas = groups[part.group]
        pixels = np.round(part.points * 4).astype(np.int32)  # 2 bits of sub-pixel precision
        if part.width == 0:
            cv2.fillPoly(canvas, [pixels], 1, cv2.LINE_8, shift=2)
        else:
            cv2.polylines(
                canvas, [pixels], False, 1, max(1, round(part.width)), cv2.LINE_8, shift=2
            )
    for name in _GROUPS[1:]:
        groups["all"] |= groups[name]
    return groups


def _roughen(rng: np.random.Generator, mask: np.ndarray, fluff: float) -> np.ndarray:
    """Give the outline fur tufts: more, and longer, for fluffier breeds."""
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 1.5 + 2 * fluff)
    near_edge = np.minimum(soft, 1 - soft)  # 0 away from the outline, 0.5 on it
    tufts = noise(rng, *mask.shape, cell=3 + 3 * fluff) * near_edge * (0.5 + fluff)
    return ((soft + tufts) > 0.5).astype(np.uint8)


def _trimap(rng: np.random.Generator, silhouette: np.ndarray) -> np.ndarray:
    """1 = pet, 2 = background, 3 = a band across the outline, as wide as ``_BORDER_WIDTH`` says."""
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
