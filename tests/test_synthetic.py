import hashlib
import inspect
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from labutils.sources import synthetic
from labutils.vocabulary import BREED_NAMES, SPECIES_NAMES


@pytest.fixture(scope="module")
def scenes():
    return [synthetic.make_scene(i) for i in range(60)]


def _digest(index):
    scene = synthetic.make_scene(index)
    pixels = scene["image"].tobytes() + scene["segmentation_mask"].tobytes()
    return hashlib.sha256(pixels + scene["file_name"].encode()).hexdigest()


def test_the_same_index_gives_the_same_scene_in_another_process():
    code = f"import hashlib\nfrom labutils.sources import synthetic\n{inspect.getsource(_digest)}"
    code += "print(_digest(7))"  # the same function, run by another interpreter
    root = Path(__file__).resolve().parents[1]
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert run.stdout.strip() == _digest(7)
    assert _digest(7) != _digest(8), "different indices give different scenes"


def test_scenes_ignore_and_leave_alone_numpys_global_random_state():
    np.random.seed(0)
    first = _digest(3)
    state = np.random.get_state()[1].copy()
    np.random.seed(1)
    assert _digest(3) == first
    np.random.seed(0)
    synthetic.make_scene(3)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_images_and_trimaps_have_tfds_types_and_photo_like_sizes(scenes):
    for scene in scenes:
        image, mask = scene["image"], scene["segmentation_mask"]
        height, width = image.shape[:2]
        assert image.dtype == np.uint8 and image.shape == (height, width, 3)
        assert mask.dtype == np.uint8 and mask.shape == (height, width, 1)
        assert set(np.unique(mask).tolist()) == {1, 2, 3}, "pet, background and border"
        assert 195 <= min(height, width) and max(height, width) <= 400
        assert 0.74 <= width / height <= 1.34
    assert len({s["image"].shape for s in scenes}) > 30, "sizes vary like photos"


def test_pet_never_touches_background_directly(scenes):
    for scene in scenes:
        trimap = scene["segmentation_mask"][..., 0]
        grown_pet = cv2.dilate((trimap == 1).astype(np.uint8), np.ones((3, 3), np.uint8))
        assert not (grown_pet.astype(bool) & (trimap == 2)).any(), scene["file_name"]


def test_border_band_is_as_thin_as_the_real_trimaps(scenes):
    """Real trimaps (shared folder): band width 4.6 % of sqrt(area), border 11.7 % of pixels."""
    widths, shares = [], []
    for scene in scenes:
        band = (scene["segmentation_mask"][..., 0] == 3).astype(np.uint8)
        depth = cv2.distanceTransform(band, cv2.DIST_L2, 5)
        widths.append(2 * np.percentile(depth[depth > 0], 95) / np.sqrt(band.size))
        shares.append(band.mean())
    assert 0.03 < np.median(widths) < 0.065
    assert 0.07 < np.median(shares) < 0.18


def test_labels_species_and_names_agree_with_the_breed_list(scenes):
    for scene in scenes:
        breed = BREED_NAMES[scene["label"]]
        is_cat = breed[0].isupper()  # TFDS's breed list capitalises cat breeds
        assert SPECIES_NAMES[scene["species"]] == ("cat" if is_cat else "dog")
        assert scene["file_name"].startswith(f"{breed}_synthetic_")
    assert {s["species"] for s in scenes} == {0, 1}
    assert len({s["label"] for s in scenes}) > 20


def test_head_box_is_a_normalised_box_over_the_pet(scenes):
    boxed = [s for s in scenes if s["head_bbox"].any()]  # zeros: the head is out of the picture
    assert len(boxed) >= 0.9 * len(scenes)
    for scene in boxed:
        ymin, xmin, ymax, xmax = scene["head_bbox"]
        assert scene["head_bbox"].dtype == np.float32
        assert 0 <= ymin < ymax <= 1 and 0 <= xmin < xmax <= 1, scene["file_name"]
        height, width = scene["image"].shape[:2]
        rows = slice(int(ymin * height), int(np.ceil(ymax * height)))
        cols = slice(int(xmin * width), int(np.ceil(xmax * width)))
        assert (scene["segmentation_mask"][rows, cols] != 2).mean() > 0.5, scene["file_name"]


def _best_threshold_iou(images, trimaps):
    """Best IoU with the pet (border ignored) of ``channel >= t`` or ``< t``, any channel and t."""
    keep = trimaps != 3
    is_pet = trimaps[keep] == 1
    best = 0.0
    for channel in range(3):
        values = images[..., channel][keep]
        pet = np.bincount(values[is_pet], minlength=256)
        other = np.bincount(values[~is_pet], minlength=256)
        pet_above, other_above = np.cumsum(pet[::-1])[::-1], np.cumsum(other[::-1])[::-1]
        for hits, false_alarms in [
            (pet_above, other_above),
            (pet.sum() - pet_above, other.sum() - other_above),
        ]:
            best = max(best, float((hits / (pet.sum() + false_alarms)).max()))
    return best


def test_pets_are_not_separable_by_one_colour_threshold(scenes):
    """Real photos score a median of 0.54 here; a trivial data set would score near 1."""
    per_scene = [_best_threshold_iou(s["image"], s["segmentation_mask"][..., 0]) for s in scenes]
    assert np.median(per_scene) < 0.8
    pixels = np.concatenate([s["image"].reshape(-1, 3) for s in scenes])[:, None]
    trimaps = np.concatenate([s["segmentation_mask"].reshape(-1) for s in scenes])[:, None]
    assert _best_threshold_iou(pixels, trimaps) < 0.5, "one threshold for all scenes"


def test_threshold_iou_reference_scores_a_separable_scene_as_one():
    trimap = np.full((20, 20), 2, np.uint8)
    trimap[5:15, 5:15] = 1
    image = np.where(trimap[..., None] == 1, 200, 50).astype(np.uint8).repeat(3, axis=2)
    assert _best_threshold_iou(image, trimap) == 1.0


def test_scene_indices_split_600_train_and_200_test_without_overlap():
    train, test = synthetic.scene_indices("train"), synthetic.scene_indices("test")
    assert (len(train), len(test)) == (600, 200) and not set(train) & set(test)
    with pytest.raises(ValueError, match="'train', 'test'"):
        synthetic.scene_indices("validation")
    with pytest.raises(ValueError, match="start at 0"):
        synthetic.make_scene(-1)
