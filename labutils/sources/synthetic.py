"""Procedural pet-like scenes: the data source that needs no download.

These are NOT photos. Each scene is a cat-like or dog-like animal
(:mod:`labutils.sources.synthetic_animal`) with fur-like texture, over a cluttered background that
sometimes borrows the animal's colours (:mod:`labutils.sources.synthetic_paint`). The trimap has the
real one's meaning: 1 = pet, 2 = background, 3 = a thin border band around the outline.

A scene is a pure function of its index (a NumPy ``Generator`` seeded with it; no global random
state), so scene 7 is the same picture on every run and machine (given the pinned NumPy and
OpenCV). Splits: ``"train"`` is scenes 0..599, ``"test"`` is scenes 600..799. Lessons meet
them through ``data.load_pets(split, "synthetic")`` when the photos are absent (lesson 03, §4
"What is in the data" compares their sizes with the photos').
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from labutils.sources.synthetic_animal import draw_animal
from labutils.sources.synthetic_paint import breed_look, composite, paint_background, paint_fur
from labutils.splits import SPLIT_NAMES, absolute_slices
from labutils.vocabulary import BREED_NAMES, species_of

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["load_synthetic", "make_scene", "scene_indices"]

_SEED = 20_240_611
_SPLITS = dict(zip(SPLIT_NAMES, (range(0, 600), range(600, 800)), strict=True))
#: The keys of a scene, in the order :func:`load_synthetic` hands them to TensorFlow.
_KEYS = ("image", "segmentation_mask", "file_name", "label", "species", "head_bbox")


def scene_indices(split: str) -> range:
    """Return the scene indices of ``"train"`` (0..599) or ``"test"`` (600..799).

    The sizes of the synthetic source's splits, which :func:`labutils.data.find_source`
    prints (every lesson's first code cell).

    Raises:
        ValueError: another split name.

    >>> scene_indices("test")
    range(600, 800)
    >>> scene_indices("validation")
    Traceback (most recent call last):
    ValueError: Synthetic splits are ['train', 'test'], got 'validation'.
    """
    if split not in _SPLITS:
        raise ValueError(f"Synthetic splits are {list(_SPLITS)}, got {split!r}.")
    return _SPLITS[split]


def make_scene(index: int) -> dict:
    """Draw synthetic scene number ``index`` (the same scene every time).

    Used in lesson 08, §1 "One mask, several pets" (pets cut out of
    scenes) and through ``data.load_pets(split, "synthetic")`` wherever the photos are absent
    (lesson 03, §4 "What is in the data").

    Returns:
        A dict like a TFDS oxford_iiit_pet element: ``image`` uint8 (H, W, 3) with H, W in
        195..400; ``segmentation_mask`` uint8 (H, W, 1), 1 pet / 2 background / 3 border;
        ``label`` int 0..36 and ``species`` int (0 cat, 1 dog) consistent with
        ``vocabulary.BREED_NAMES``; ``file_name`` str, e.g. ``"Bengal_synthetic_7.png"``;
        ``head_bbox`` float32 (4,) ``[ymin, xmin, ymax, xmax]`` in 0..1 (zeros when the head is
        outside the picture, as TFDS marks a missing box).

    Raises:
        ValueError: a negative index.

    >>> scene = make_scene(7)
    >>> scene["file_name"], scene["segmentation_mask"].shape[2], scene["head_bbox"].shape
    ('..._synthetic_7.png', 1, (4,))
    """
    if index < 0:
        raise ValueError(f"Scene indices start at 0, got {index}.")
    rng = np.random.default_rng((_SEED, index))
    height, width = _canvas_size(rng)
    label = int(rng.integers(len(BREED_NAMES)))
    species = species_of(label)
    look = breed_look(np.random.default_rng((_SEED, 1000 + label)), species)  # per breed
    background = paint_background(rng, height, width, look)
    animal = draw_animal(rng, species, look, height, width)
    fur = paint_fur(rng, look, animal.groups, animal.silhouette)
    return {
        "image": composite(rng, background, fur, animal.silhouette),  # (H, W, 3) uint8
        "segmentation_mask": animal.trimap[..., None],  # (H, W, 1) uint8, values 1..3
        "label": label,
        "species": species,
        "file_name": f"{BREED_NAMES[label]}_synthetic_{index}.png",
        "head_bbox": animal.head_bbox,
    }


def _canvas_size(rng: np.random.Generator) -> tuple[int, int]:
    """A photo-like size: long side 260..400 px, aspect ratio 0.75..1.33 (often 4:3)."""
    long_side = int(rng.integers(260, 401))
    aspect = rng.choice([0.75, 1.33]) if rng.random() < 0.5 else np.exp(rng.uniform(-0.29, 0.29))
    short_side = round(long_side * min(aspect, 1 / aspect))
    return (long_side, short_side) if aspect < 1 else (short_side, long_side)


def load_synthetic(split: str) -> tf.data.Dataset:
    """The scenes of ``split`` as a ``tf.data.Dataset``, drawn as they are read.

    The synthetic source of :func:`labutils.data.load_pets`, taught in lesson 03, §2 "Loading
    the data, and splitting it"; ``split`` and the elements are as documented there.

    Raises:
        ValueError: a bad split string, or a slice out of range (before TensorFlow starts).

    >>> load_synthetic("test[:500]")
    Traceback (most recent call last):
    ValueError: Split 'test[:500]': [:500] needs 500 examples, but 'test' has 200 here. ...
    """
    slices = absolute_slices(split, {name: len(scenes) for name, scenes in _SPLITS.items()})
    indices = [i for name, start, stop in slices for i in _SPLITS[name][start:stop]]
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices(tf.constant(indices, tf.int64)).map(
        _render_scene, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )


def _render_scene(index: tf.Tensor) -> dict:
    import tensorflow as tf

    def render(i: np.int64) -> list[np.ndarray]:
        scene = make_scene(int(i))
        return [np.asarray(scene[key]) for key in _KEYS]

    dtypes = [tf.uint8, tf.uint8, tf.string, tf.int64, tf.int64, tf.float32]
    shapes = [(None, None, 3), (None, None, 1), (), (), (), (4,)]  # image, mask 1..3, ...
    tensors = tf.numpy_function(render, [index], dtypes, stateful=False)
    for tensor, shape in zip(tensors, shapes, strict=True):
        tensor.set_shape(shape)
    return dict(zip(_KEYS, tensors, strict=True))
