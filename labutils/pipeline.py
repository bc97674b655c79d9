"""The input pipeline of lessons 03-05: decode, resize, augment, batch, prefetch.

Taught in lesson 03, §8 "The input pipeline". Two routes lead to the same batches
``(images float32 (B, S, S, 3) in [0, 1], masks int32 (B, S, S, 1))``, mask labels
0 = pet, 1 = background, 2 = border (``vocabulary.CLASS_NAMES``):

- :func:`make_dataset` streams: map → cache → shuffle → batch → augment → prefetch.
- :func:`load_arrays` + :func:`dataset_from_arrays` is the fast path for training on a CPU:
  every photo is decoded and resized once, and the small uint8 arrays stay in memory.

Masks are resized with nearest neighbour and every augmentation moves image and mask
together, so a mask never holds a label that was not in the trimap.
"""

from __future__ import annotations

import sys

import numpy as np
import tensorflow as tf

from labutils import data
from labutils.mask_inputs import as_label_mask
from labutils.vocabulary import NUM_CLASSES

__all__ = [
    "augment_batch",
    "dataset_from_arrays",
    "load_arrays",
    "make_dataset",
    "prepare_example",
    "validate_batch",
]

AUTOTUNE = tf.data.AUTOTUNE
#: Examples that make_dataset shuffles among (all it holds in memory when cache=False).
SHUFFLE_BUFFER = 1024
#: Random zoom of :func:`augment_batch`: the crop's side is this fraction of the image side.
_ZOOM_RANGE = (0.75, 1.0)


def prepare_example(
    example: dict, image_size: int, mask_size: int | None = None
) -> tuple[tf.Tensor, tf.Tensor]:
    """Turn one TFDS-style example into a model-ready ``(image, mask)`` pair.

    The image is resized bilinearly (antialiased, so shrinking a large photo does not alias);
    the mask with nearest neighbour, so it keeps exactly the labels of the trimap. Taught in
    lesson 03, §8 "The input pipeline"; used in lesson 04, §1 "A few training photos".

    Args:
        example: a dict with ``image`` uint8 (H, W, 3) and ``segmentation_mask`` uint8
            (H, W, 1) holding the trimap values 1 = pet, 2 = background, 3 = border.
        image_size: side S of the square image.
        mask_size: side M of the square mask (``None``: S); evaluation compares at M × M.

    Returns:
        ``image`` float32 (S, S, 3) in [0, 1] and ``mask`` int32 (M, M, 1) with
        0 = pet, 1 = background, 2 = border.

    >>> tri = np.full((40, 60, 1), 2, np.uint8)  # a trimap of background only
    >>> image, mask = prepare_example({"image": tri.repeat(3, 2), "segmentation_mask": tri}, 16)
    >>> image.shape, mask.shape, int(mask[0, 0, 0])
    (TensorShape([16, 16, 3]), TensorShape([16, 16, 1]), 1)
    """
    size = (image_size, image_size)
    image = tf.image.resize(tf.cast(example["image"], tf.float32), size, antialias=True)
    image = tf.clip_by_value(image / 255.0, 0.0, 1.0)  # (S, S, 3) float32 in [0, 1]
    mask_size = image_size if mask_size is None else mask_size
    mask = tf.image.resize(example["segmentation_mask"], (mask_size, mask_size), "nearest")
    mask = tf.cast(mask, tf.int32) - 1  # (M, M, 1) int32: the trimap's 1..3 become 0..2
    return image, mask


def load_arrays(
    split: str, source: str | data.DataSource = "auto", image_size: int = 128, verbose: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Decode and resize a whole split once and keep it in memory (the fast path).

    Taught in lesson 05, §2 "The data, decoded once"; used in lessons 06-09.

    Args:
        split: a :func:`labutils.data.load_pets` split, e.g. ``"train"`` or ``"test[:50%]"``.
        source: anything :func:`labutils.data.load_pets` accepts.
        image_size: side S of the square images.
        verbose: report progress on stderr (one line per 256 images).

    Returns:
        ``images`` uint8 (N, S, S, 3) and ``masks`` uint8 (N, S, S, 1), labels as in
        :func:`prepare_example`.

    Raises:
        ValueError: if the split holds no images.
    """

    def prepare_uint8(example: dict) -> tuple[tf.Tensor, tf.Tensor]:
        image, mask = prepare_example(example, image_size)
        return tf.cast(tf.round(image * 255.0), tf.uint8), tf.cast(mask, tf.uint8)

    ds = data.load_pets(split, source).map(prepare_uint8, AUTOTUNE)
    images, masks = [], []
    for batch_images, batch_masks in ds.batch(256).prefetch(1):
        images.append(batch_images.numpy())
        masks.append(batch_masks.numpy())
        if verbose:
            print(f"  {split}: {sum(len(b) for b in images)} images decoded", file=sys.stderr)
    if not images:
        raise _no_images(split)
    return np.concatenate(images), np.concatenate(masks)


def _no_images(split: str) -> ValueError:
    return ValueError(
        f"Split {split!r} of the data source holds no images: check the split name and "
        "that the data folder has images listed in that split."
    )


def _finish(ds: tf.data.Dataset, batch_size: int, augment: bool) -> tf.data.Dataset:
    """Batch, optionally augment, and prefetch ``(image, mask)`` pairs."""
    ds = ds.batch(batch_size)
    if augment:
        ds = ds.map(augment_batch, num_parallel_calls=AUTOTUNE)
    return ds.prefetch(AUTOTUNE)


def make_dataset(
    split: str,
    source: str | data.DataSource = "auto",
    image_size: int = 128,
    batch_size: int = 32,
    augment: bool = False,
    shuffle: bool = False,
    cache: bool = True,
    mask_size: int | None = None,
) -> tf.data.Dataset:
    """Build the streaming pipeline: map → cache → shuffle → batch → augment → prefetch.

    Taught in lesson 03, §8 "The input pipeline".

    Args:
        split: a :func:`labutils.data.load_pets` split, e.g. ``splits.TRAIN_SPLIT``.
        source: anything :func:`labutils.data.load_pets` accepts.
        image_size: side S of the square images.
        batch_size: images per batch B (the last batch may be smaller).
        augment: apply :func:`augment_batch` to every batch.
        shuffle: reshuffle every epoch. Pass True for the split the model trains on: the
            role decides, not the name (``splits.VAL_SPLIT`` is ``"train[85%:]"`` and is
            read in file order).
        cache: keep the resized examples in memory after the first pass.
        mask_size: side M of the masks, for evaluation at another size (``None``: S; only
            without ``augment``).

    Returns:
        A dataset of ``(images float32 (B, S, S, 3) in [0, 1], masks int32 (B, M, M, 1))``,
        mask values 0 = pet, 1 = background, 2 = border.

    Raises:
        ValueError: ``augment`` with a ``mask_size`` other than ``image_size``, or a split
            that holds no images.
    """
    if augment and mask_size not in (None, image_size):
        raise ValueError("augment needs masks of the images' size: leave mask_size as None.")
    ds = data.load_pets(split, source)
    if ds.cardinality() == 0:
        raise _no_images(split)
    ds = ds.map(lambda ex: prepare_example(ex, image_size, mask_size), AUTOTUNE)
    if cache:
        ds = ds.cache()
    if shuffle:
        ds = ds.shuffle(SHUFFLE_BUFFER, reshuffle_each_iteration=True)
    return _finish(ds, batch_size, augment)


def dataset_from_arrays(
    images: np.ndarray,
    masks: np.ndarray,
    batch_size: int = 32,
    augment: bool = False,
    shuffle: bool = False,
) -> tf.data.Dataset:
    """Batch in-memory arrays from :func:`load_arrays`: shuffle → batch → augment → prefetch.

    Taught in lesson 05, §2 "The data, decoded once"; used in lessons 06 and 08.

    Args:
        images: uint8 (N, S, S, 3).
        masks: uint8 or int (N, S, S, 1), class labels in ``[0, NUM_CLASSES)``.
        batch_size: images per batch B (the last batch may be smaller).
        augment: apply :func:`augment_batch` to every batch.
        shuffle: reshuffle the whole array every epoch.

    Returns:
        A dataset of ``(images float32 (B, S, S, 3) in [0, 1], masks int32 (B, S, S, 1))``.

    Raises:
        ValueError: images that are not uint8, arrays of different lengths, or anything
            :func:`validate_batch` rejects (shapes, mask values anywhere in ``masks``).
    """
    images, masks = np.asarray(images), np.asarray(masks)
    if images.dtype != np.uint8 or len(images) != len(masks):
        raise ValueError(
            f"Expected uint8 images and as many masks as images (what load_arrays returns), "
            f"got {images.dtype} images {images.shape} and masks {masks.shape}."
        )
    validate_batch(images[:1] / 255.0, masks[:1])  # shapes and dtypes
    _check_labels(masks, NUM_CLASSES)  # every mask, not only the first

    def to_float(image: tf.Tensor, mask: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return tf.cast(image, tf.float32) / 255.0, tf.cast(mask, tf.int32)

    ds = tf.data.Dataset.from_tensor_slices((images, masks))
    if shuffle:
        ds = ds.shuffle(len(images), reshuffle_each_iteration=True)
    return _finish(ds.map(to_float, num_parallel_calls=AUTOTUNE), batch_size, augment)


def augment_batch(
    images: tf.Tensor, masks: tf.Tensor, seed: tf.Tensor | tuple[int, int] | None = None
) -> tuple[tf.Tensor, tf.Tensor]:
    """Randomly flip and zoom each image and its mask together (labels stay exact).

    Each example is flipped left-right with probability 1/2 and cropped to a random square
    of 75-100 % of its side (``_ZOOM_RANGE``), resized back to S×S: bilinear for the image,
    nearest neighbour for the mask, so the mask only ever holds labels it held before. Taught
    in lesson 03, §7 "Augmentation: move the image and its mask together".

    Args:
        images: float32 (B, S, S, 3).
        masks: int (B, S, S, 1).
        seed: two integers for reproducible draws; ``None`` draws fresh ones.

    Returns:
        ``images`` float32 (B, S, S, 3) and ``masks`` int32 (B, S, S, 1), aligned.

    >>> images, masks = augment_batch(np.zeros((2, 8, 8, 3), np.float32),
    ...                               np.ones((2, 8, 8, 1), np.int32), seed=(1, 2))
    >>> images.shape, masks.dtype.name
    (TensorShape([2, 8, 8, 3]), 'int32')
    """
    if seed is None:
        seed = tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int32)
    flip_seed, scale_seed, place_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
    batch = tf.shape(images)[0]
    side = tf.random.stateless_uniform([batch, 1], scale_seed, *_ZOOM_RANGE)
    corner = tf.random.stateless_uniform([batch, 2], place_seed) * (1.0 - side)  # (y, x)
    boxes = tf.concat([corner, corner + side], axis=1)  # (B, 4): y1, x1, y2, x2 in [0, 1]
    flip = tf.random.stateless_uniform([batch], flip_seed) < 0.5
    boxes = tf.where(flip[:, None], tf.gather(boxes, [0, 3, 2, 1], axis=1), boxes)  # x2 < x1
    size = tf.shape(images)[1:3]
    index = tf.range(batch)
    images = tf.image.crop_and_resize(images, boxes, index, size, method="bilinear")
    masks = tf.image.crop_and_resize(tf.cast(masks, tf.float32), boxes, index, size, "nearest")
    return images, tf.cast(masks, tf.int32)


def validate_batch(images: object, masks: object, num_classes: int = NUM_CLASSES) -> None:
    """Check that a batch is what the models expect; raise a clear error if not.

    Taught in lesson 03, §8 "The input pipeline".

    Args:
        images: float (B, H, W, 3) with values in [0, 1].
        masks: integer (B, H, W, 1) with values in [0, num_classes).
        num_classes: number of classes C.

    Raises:
        ValueError: naming what was expected, what came, and the usual fix.

    >>> images, masks = np.zeros((2, 4, 4, 3)), np.ones((2, 4, 4, 1), np.int32)
    >>> validate_batch(images, masks)
    >>> validate_batch(images, masks + 2)
    Traceback (most recent call last):
    ValueError: masks has labels from 3 to 3: expected labels ... 0..2 (num_classes=3). ...
    """
    images, masks = np.asarray(images), np.asarray(masks)
    if images.ndim != 4 or images.shape[-1] != 3 or not np.issubdtype(images.dtype, np.floating):
        raise ValueError(
            f"images must be float (B, H, W, 3), got {images.dtype} {images.shape}: batch the "
            "dataset and convert with tf.cast(image, tf.float32) / 255."
        )
    if images.size and (images.min() < 0.0 or images.max() > 1.0):
        raise ValueError(
            f"images must lie in [0, 1], got [{images.min():g}, {images.max():g}]: divide "
            "uint8 images by 255 (and only once)."
        )
    if masks.shape != images.shape[:3] + (1,) or not np.issubdtype(masks.dtype, np.integer):
        raise ValueError(
            f"masks must be integer (B, H, W, 1) = {images.shape[:3] + (1,)} to match the "
            f"images, got {masks.dtype} {masks.shape}: keep the trailing channel, resize "
            "masks with method='nearest' and cast them to int32."
        )
    _check_labels(masks, num_classes)


def _check_labels(masks: np.ndarray, num_classes: int) -> None:
    """``as_label_mask``'s check of integer masks, run on their extremes: no int64 copy of all."""
    if masks.size:
        as_label_mask(np.array([masks.min(), masks.max()]), "masks", num_classes, ndim=1)
