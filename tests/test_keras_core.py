"""Keras 3's own image layers give the same masks as keras-cv's, on real Oxford-IIIT Pet photos.

Lessons 01 and 03 show each keras-cv layer of the original lab next to its Keras-core
equivalent (keras-cv is frozen: keras-team/keras-cv #2497). These tests hold the two to it:
mask labels exact, resized with nearest neighbour, flipped with their images. They also pin
what the lessons say about Keras (RandomErasing's settings in lesson 01; the in-place dict
write and the gallery's num_classes in lesson 03), so that the prose fails here when Keras
changes.
"""

import keras
import keras_cv
import numpy as np
import pytest
import tensorflow as tf

from labutils import data

SIZES = [(128, 128), (96, 160), (400, 300)]  # square, non-square, enlarging most photos


@pytest.fixture(scope="module")
def examples(pets_folder) -> list[dict]:
    """Twelve real photos of both official splits, as the lessons feed them to the layers."""
    source = data.find_source(str(pets_folder), verbose=False)
    return [
        {
            "images": tf.cast(element["image"], tf.float32) / 255.0,  # (H, W, 3) float32
            "segmentation_masks": element["segmentation_mask"] - 1,  # (H, W, 1) uint8, 0..2
        }
        for element in data.load_pets("train[:8]+test[:4]", source)
    ]


@pytest.fixture(scope="module")
def batch(examples) -> dict:
    """The photos at 96 × 128 in one batch: images (12, 96, 128, 3), masks (12, 96, 128, 1)."""
    resize = keras_cv.layers.Resizing(96, 128)
    resized = [resize(dict(example)) for example in examples]
    return {key: tf.stack([r[key] for r in resized]) for key in ("images", "segmentation_masks")}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_resizing_gives_keras_cv_masks_exactly(examples, size):
    for example in examples:
        by_cv = keras_cv.layers.Resizing(*size)(dict(example))
        by_keras = keras.layers.Resizing(*size)(dict(example))
        cv_mask, keras_mask = (np.asarray(r["segmentation_masks"]) for r in (by_cv, by_keras))
        nearest = tf.image.resize(example["segmentation_masks"], size, method="nearest").numpy()
        assert keras_mask.shape == (*size, 1) and keras_mask.dtype == np.uint8
        assert np.array_equal(keras_mask, cv_mask), "Keras and keras-cv resize masks alike"
        assert np.array_equal(keras_mask, nearest), "masks are resized with nearest neighbour"
        np.testing.assert_allclose(by_keras["images"], by_cv["images"], atol=1e-6)


@pytest.mark.parametrize(("mode", "axis"), [("horizontal", 2), ("vertical", 1)])
def test_random_flip_gives_keras_cv_masks_exactly(batch, mode, axis):
    images, masks = batch["images"].numpy(), batch["segmentation_masks"].numpy()
    mirrored_images, mirrored_masks = np.flip(images, axis), np.flip(masks, axis)
    always = keras_cv.layers.RandomFlip(mode, rate=1.0, seed=0)(dict(batch))  # flips every one
    never = keras_cv.layers.RandomFlip(mode, rate=0.0, seed=0)(dict(batch))
    by_keras = keras.layers.RandomFlip(mode, seed=42)(dict(batch))  # flips about half
    keras_images = np.asarray(by_keras["images"])
    keras_masks = np.asarray(by_keras["segmentation_masks"])
    flipped = np.all(np.isclose(keras_images, mirrored_images), axis=(1, 2, 3))  # (12,) bool
    assert 0 < flipped.sum() < len(flipped), "seed 42 flips some images and keeps others"
    assert np.array_equal(np.asarray(always["segmentation_masks"]), mirrored_masks)
    assert np.array_equal(np.asarray(never["segmentation_masks"]), masks)
    cv_flipped, cv_kept = always["segmentation_masks"], never["segmentation_masks"]
    expected = np.where(flipped[:, None, None, None], cv_flipped, cv_kept)
    assert np.array_equal(keras_masks, expected), "each mask is flipped exactly with its image"
    assert set(np.unique(keras_masks)) <= {0, 1, 2}


def test_keras_layers_write_into_the_dictionary_they_get(batch):
    """Lesson 03 tells students to pass dict(batch): the layer returns the dictionary it got."""
    given = dict(batch)
    returned = keras.layers.RandomFlip("horizontal", seed=42)(given)
    assert returned is given
    assert given["images"] is not batch["images"], "the layer replaced the entry in place"


def test_segmentation_gallery_needs_num_classes_to_paint_the_border(batch):
    """Keras 3.15.1 infers num_classes as the largest label (keras-team/keras #23088), so the
    border (label 2) stays unpainted unless num_classes=3 is passed, as lesson 03 does."""
    images = batch["images"].numpy() * 255.0  # (12, H, W, 3) float32 in 0..255
    masks = tf.cast(batch["segmentation_masks"], tf.int32)
    border = masks.numpy()[..., 0] == 2  # (12, H, W) bool
    assert border.any()
    draw = keras.visualization.draw_segmentation_masks
    inferred = draw(images, masks, blend=False)
    explicit = draw(images, masks, num_classes=3, blend=False)
    assert np.allclose(inferred[border], images[border]), "3.15.1 leaves the border unpainted"
    assert not np.allclose(explicit[border], images[border]), "num_classes=3 paints it"


def test_random_erasing_as_lesson_01_sets_it_erases_a_cutout_sized_black_box(examples):
    """Lesson 01's RandomErasing(factor=(1, 1), scale=(0.04, 0.16), fill_value=0) always paints
    one black rectangle with sides 0.2 to 0.4 of the photo's, like RandomCutout(0.2..0.4)."""
    erase = keras.layers.RandomErasing(
        factor=(1.0, 1.0), scale=(0.04, 0.16), fill_value=0, value_range=(0, 255), seed=42
    )
    for example in examples:
        image = np.round(example["images"].numpy() * 255).astype(np.uint8) | 1  # no black pixel
        erased = np.asarray(erase(image, training=True))  # (H, W, 3) float32
        changed = np.any(erased != image, axis=-1)  # (H, W) bool
        rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
        assert changed.any(), "factor=(1, 1) erases every time"
        assert np.all(erased[changed] == 0), "fill_value=0 paints black"
        assert changed[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].all(), "one rectangle"
        for side, length in ((len(rows), image.shape[0]), (len(cols), image.shape[1])):
            assert 0.2 * length - 2 <= side <= 0.4 * length + 2, (side, length)
