"""Tests for labutils.pipeline: shapes, dtypes, value ranges, and masks that stay exact."""

import numpy as np
import pytest
import tensorflow as tf

from labutils import pipeline


def make_example(height: int = 50, width: int = 70) -> dict:
    """A trimap of three stripes (1, 2, 3) and an image whose red channel encodes it."""
    trimap = np.ones((height, width, 1), np.uint8)
    trimap[:, width // 3 :] = 2
    trimap[:, 2 * width // 3 :] = 3
    image = np.zeros((height, width, 3), np.uint8)
    image[..., 0] = trimap[..., 0] * 80
    return {"image": tf.constant(image), "segmentation_mask": tf.constant(trimap)}


def blocky_batch(batch: int = 4, size: int = 32, seed: int = 0) -> tuple[tf.Tensor, tf.Tensor]:
    """Random masks made of 4×4 blocks, and images that are the masks one-hot encoded."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 3, (batch, size // 4, size // 4))
    masks = np.repeat(np.repeat(blocks, 4, axis=1), 4, axis=2)[..., None].astype(np.int32)
    images = np.eye(3, dtype=np.float32)[masks[..., 0]]  # pet → red, background → green, ...
    return tf.constant(images), tf.constant(masks)


def check_batch(images, masks, batch: int, size: int) -> None:
    assert images.shape == (batch, size, size, 3) and images.dtype == tf.float32
    assert masks.shape == (batch, size, size, 1) and masks.dtype == tf.int32
    assert 0.0 <= float(tf.reduce_min(images)) and float(tf.reduce_max(images)) <= 1.0
    assert set(np.unique(masks)) <= {0, 1, 2}


def test_prepare_example_resizes_and_shifts_the_trimap():
    image, mask = pipeline.prepare_example(make_example(), image_size=24)
    check_batch(image[None], mask[None], 1, 24)
    assert set(np.unique(mask)) == {0, 1, 2}  # 1, 2, 3 → 0, 1, 2 and nothing in between


def test_prepare_example_keeps_only_existing_labels():
    example = make_example()
    example["segmentation_mask"] = tf.where(example["segmentation_mask"] == 2, 3, 1)
    example["segmentation_mask"] = tf.cast(example["segmentation_mask"], tf.uint8)
    _, mask = pipeline.prepare_example(example, image_size=37)
    assert set(np.unique(mask)) == {0, 2}  # bilinear would invent 1 between 0 and 2


def test_prepare_example_can_give_masks_another_size():
    image, mask = pipeline.prepare_example(make_example(), image_size=16, mask_size=40)
    assert image.shape == (16, 16, 3) and mask.shape == (40, 40, 1)


def test_make_dataset_on_synthetic_data():
    ds = pipeline.make_dataset("train[:6]", "synthetic", image_size=32, batch_size=4)
    batches = list(ds)
    assert [len(images) for images, _ in batches] == [4, 2]
    for images, masks in batches:
        check_batch(images, masks, len(images), 32)
        pipeline.validate_batch(images, masks)


def test_make_dataset_shuffles_by_role_not_by_split_name():
    # VAL_SPLIT starts with "train" too: only shuffle=True, the training role, reorders
    def epochs(ds):
        return [next(iter(ds))[0].numpy() for _ in range(2)]

    in_order = epochs(pipeline.make_dataset("train[:8]", "synthetic", 16, 8))
    np.testing.assert_array_equal(in_order[0], in_order[1])
    shuffled = epochs(pipeline.make_dataset("train[:8]", "synthetic", 16, 8, shuffle=True))
    assert not np.array_equal(shuffled[0], shuffled[1])  # a new order every epoch
    assert not np.array_equal(shuffled[0], in_order[0])
    np.testing.assert_allclose(np.sort(shuffled[0].sum(axis=(1, 2, 3))),
                               np.sort(in_order[0].sum(axis=(1, 2, 3))), rtol=1e-5)  # fmt: skip


def test_make_dataset_with_augmentation_and_eval_mask_size():
    images, masks = next(iter(pipeline.make_dataset("test[:4]", "synthetic", 32, 4, augment=True)))
    check_batch(images, masks, 4, 32)
    images, masks = next(iter(pipeline.make_dataset("test[:4]", "synthetic", 32, 4, mask_size=48)))
    assert images.shape == (4, 32, 32, 3) and masks.shape == (4, 48, 48, 1)
    with pytest.raises(ValueError, match="mask_size"):
        pipeline.make_dataset("test[:4]", "synthetic", 32, augment=True, mask_size=48)


def test_load_arrays_and_dataset_from_arrays():
    images, masks = pipeline.load_arrays("train[:5]", "synthetic", image_size=32)
    assert images.shape == (5, 32, 32, 3) and images.dtype == np.uint8
    assert masks.shape == (5, 32, 32, 1) and masks.dtype == np.uint8
    assert set(np.unique(masks)) <= {0, 1, 2}
    batches = list(pipeline.dataset_from_arrays(images, masks, batch_size=2, shuffle=True))
    assert [len(b[0]) for b in batches] == [2, 2, 1]
    check_batch(*batches[0], 2, 32)
    streamed, _ = next(iter(pipeline.make_dataset("train[:5]", "synthetic", 32, 5, shuffle=False)))
    np.testing.assert_allclose(images / 255.0, streamed, atol=0.5 / 255 + 1e-6)  # same pixels


def test_load_arrays_and_make_dataset_refuse_an_empty_split():
    with pytest.raises(ValueError, match="no images"):
        pipeline.load_arrays("train[:0]", "synthetic", image_size=32)
    with pytest.raises(ValueError, match="no images"):
        pipeline.make_dataset("train[:0]", "synthetic", image_size=32)


def test_dataset_from_arrays_refuses_bad_arrays():
    images = np.zeros((2, 8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="uint8"):
        pipeline.dataset_from_arrays(images.astype(np.float32), np.zeros((2, 8, 8, 1), np.uint8))
    with pytest.raises(ValueError, match="0..2"):
        pipeline.dataset_from_arrays(images, np.full((2, 8, 8, 1), 3, np.uint8))


def test_make_dataset_on_the_real_folder(pets_folder):
    ds = pipeline.make_dataset("test[:6]", str(pets_folder), image_size=64, batch_size=3)
    for images, masks in ds:
        check_batch(images, masks, 3, 64)
        assert float(tf.reduce_max(images)) > 0.5  # real photos, not an all-dark mistake


def test_augmentation_never_changes_the_label_set():
    images, masks = blocky_batch(batch=8)
    for seed in range(5):
        _, augmented = pipeline.augment_batch(images, masks, seed=(seed, 1))
        assert augmented.dtype == tf.int32 and augmented.shape == masks.shape
        for before, after in zip(masks.numpy(), augmented.numpy(), strict=True):
            assert set(np.unique(after)) <= set(np.unique(before))


def test_augmentation_keeps_image_and_mask_aligned():
    images, masks = blocky_batch(batch=8)
    changed = 0
    for seed in range(5):
        out_images, out_masks = pipeline.augment_batch(images, masks, seed=(seed, 2))
        out_images, out_masks = out_images.numpy(), out_masks.numpy()[..., 0]
        pure = out_images.max(axis=-1) > 1 - 1e-5  # pixels not blended across a class edge
        assert pure.mean() > 0.3
        np.testing.assert_array_equal(out_images.argmax(axis=-1)[pure], out_masks[pure])
        assert (out_images.argmax(axis=-1) == out_masks).mean() > 0.9
        changed += int(not np.array_equal(out_masks, masks.numpy()[..., 0]))
    assert changed == 5  # the augmentation did move things


def test_augmentation_flips_about_half_the_batch_and_repeats_with_a_seed():
    masks = np.zeros((200, 32, 32, 1), np.int32)
    masks[:, :, 16:] = 1  # pet on the left, background on the right
    images = np.eye(3, dtype=np.float32)[masks[..., 0]]
    out_images, out_masks = pipeline.augment_batch(images, masks, seed=(3, 4))
    left, right = out_masks.numpy()[:, :, 0, 0], out_masks.numpy()[:, :, -1, 0]
    flipped = (left == 1).all(axis=1) & (right == 0).all(axis=1)
    kept = (left == 0).all(axis=1) & (right == 1).all(axis=1)
    assert np.all(flipped | kept)  # a zoom of >= 75 % keeps one half at each edge
    assert 0.35 < flipped.mean() < 0.65
    np.testing.assert_array_equal(out_images.numpy()[:, :, 0].argmax(-1), left)
    again = pipeline.augment_batch(images, masks, seed=(3, 4))[1]
    np.testing.assert_array_equal(again, out_masks)


def test_validate_batch_accepts_a_good_batch_and_names_each_mistake():
    images, masks = blocky_batch()
    pipeline.validate_batch(images, masks)
    cases = [
        (images * 255, masks, r"\[0, 1\]"),
        (images, masks + 1, "subtract 1"),
        (images[..., :1], masks, r"\(B, H, W, 3\)"),
        (images, masks[..., 0], r"\(B, H, W, 1\)"),
        (images, tf.cast(masks, tf.float32), "integer"),
    ]
    for bad_images, bad_masks, message in cases:
        with pytest.raises(ValueError, match=message):
            pipeline.validate_batch(bad_images, bad_masks)
