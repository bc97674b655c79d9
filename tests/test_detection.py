"""Lessons 07 and 08's modules: bbox and box_masks (boxes from files and masks), box_detector (the
detector and its losses), detection_metrics (AP checked against pycocotools, COCO's reference
implementation) and multi_pet."""

import contextlib
import io
import json
import os
from pathlib import Path

import cv2
import keras
import numpy as np
import pytest

from labutils import bbox, box_detector, box_masks, data, detection_metrics, multi_pet, prompts

ROOT = Path(__file__).resolve().parents[1]
PETS = Path(os.environ.get("SEGLAB_DATA", ROOT.parent / "shared/data/oxford-iiit-pet"))
HAS_PETS = (PETS / "annotations" / "xmls").is_dir()


# --- pycocotools as the reference -----------------------------------------------------------


def coco_reference(truth, preds, scores):
    """(AP, AP50, AP75) from pycocotools for one class; boxes per image as xyxy."""
    anns, dets = [], []
    for i, (g, d, s) in enumerate(zip(truth, preds, scores, strict=True)):
        for b in np.reshape(g, (-1, 4)):
            w, h = b[2] - b[0], b[3] - b[1]
            anns.append({"id": len(anns) + 1, "image_id": i, "category_id": 1,
                         "bbox": [b[0], b[1], w, h], "area": w * h, "iscrowd": 0})  # fmt: skip
        for b, score in zip(np.reshape(d, (-1, 4)), np.reshape(s, -1), strict=True):
            bbox = [b[0], b[1], b[2] - b[0], b[3] - b[1]]
            dets.append({"image_id": i, "category_id": 1, "bbox": bbox, "score": float(score)})
    return run_cocoeval([{"id": i} for i in range(len(truth))], anns, dets, "bbox")


def run_cocoeval(images, anns, dets, iou_type):
    """pycocotools' (AP, AP50, AP75) for one class ("pet"), its printout silenced."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {"info": {}, "licenses": [], "images": images, "annotations": anns,
                      "categories": [{"id": 1, "name": "pet"}]}  # fmt: skip
        gt.createIndex()
        evaluation = COCOeval(gt, gt.loadRes(dets), iou_type)
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return evaluation.stats[:3]


def ours(truth, preds, scores):
    return (
        detection_metrics.coco_average_precision(truth, preds, scores),
        detection_metrics.average_precision(truth, preds, scores, 0.5),
        detection_metrics.average_precision(truth, preds, scores, 0.75),
    )


def random_boxes(rng, n, side=100.0):
    corner = rng.uniform(0, 0.8 * side, (n, 2))
    return np.hstack([corner, corner + rng.uniform(0.05, 0.4, (n, 2)) * side])


def random_scene(rng, images=40, noise=3.0):
    """Several true boxes per image, near-duplicates and strays among the detections."""
    truth, preds, scores = [], [], []
    for _ in range(images):
        gt = random_boxes(rng, int(rng.integers(0, 4)))
        near = np.repeat(gt, rng.integers(0, 3, len(gt)), axis=0)  # 0, 1 or 2 tries per box
        near = near + rng.normal(0, noise, near.shape)
        dt = np.vstack([near, random_boxes(rng, int(rng.integers(0, 3)))])
        dt = np.hstack([np.minimum(dt[:, :2], dt[:, 2:]), np.maximum(dt[:, :2], dt[:, 2:])])
        truth.append(gt), preds.append(dt), scores.append(rng.random(len(dt)))
    return truth, preds, scores


@pytest.mark.parametrize("seed", range(6))
def test_ap_agrees_with_pycocotools_on_random_boxes(seed):
    rng = np.random.default_rng(seed)
    truth, preds, scores = random_scene(rng, noise=[1.0, 3.0, 6.0][seed % 3])
    np.testing.assert_allclose(ours(truth, preds, scores), coco_reference(truth, preds, scores),
                               rtol=0, atol=1e-6)  # fmt: skip


def test_ap_agrees_with_pycocotools_with_tied_scores_and_many_detections():
    rng = np.random.default_rng(7)
    truth, preds, scores = random_scene(rng, images=30)
    scores = [np.round(s, 1) for s in scores]  # many ties, across and within images
    preds = [np.vstack([p, random_boxes(rng, 120)]) for p in preds]  # > 100 per image
    scores = [np.concatenate([s, rng.random(120) * 0.5]) for s in scores]
    np.testing.assert_allclose(ours(truth, preds, scores), coco_reference(truth, preds, scores),
                               rtol=0, atol=1e-6)  # fmt: skip


@pytest.mark.skipif(not HAS_PETS, reason="needs the Oxford-IIIT Pet folder")
def test_ap_agrees_with_pycocotools_on_real_head_boxes():
    """True boxes: the real head boxes; detections: shifted and scaled copies of them."""
    names = sorted(p.stem for p in (PETS / "annotations" / "xmls").glob("*.xml"))[:150]
    truth = np.array([bbox.read_voc_box(PETS / f"annotations/xmls/{n}.xml") for n in names])
    rng = np.random.default_rng(0)
    size = truth[:, 2:] - truth[:, :2]
    shift = rng.normal(0, 0.12, truth.shape) * np.hstack([size, size])
    preds = truth + shift
    preds = np.hstack(
        [np.minimum(preds[:, :2], preds[:, 2:]), np.maximum(preds[:, :2], preds[:, 2:])]
    )
    scores = rng.random(len(truth))
    reference = coco_reference(list(truth), list(preds), list(scores))
    assert 0.05 < reference[0] < 0.95  # a real mix of hits and misses
    np.testing.assert_allclose(ours(truth, preds, scores), reference, rtol=0, atol=1e-6)


def test_perfect_detections_have_ap_1_and_misses_lower_it():
    truth = np.array([[0, 0, 10, 10], [5, 5, 20, 30.0]])
    assert detection_metrics.coco_average_precision(truth, truth, np.array([0.9, 0.8])) == 1.0
    wrong = truth + [[30, 30, 30, 30], [0, 0, 0, 0]]
    assert detection_metrics.average_precision(truth, wrong, np.array([0.9, 0.8])) < 0.6
    # the hit ranked first: precision 1 up to recall 0.5, read at 51 of the 101 recall levels
    assert detection_metrics.average_precision(truth, wrong, np.array([0.1, 0.8])) == 51 / 101


def test_precision_recall_counts_hits_and_duplicates():
    truth = [np.array([[0, 0, 10, 10.0]]), np.array([[0, 0, 10, 10.0]])]
    preds = [np.array([[0, 0, 10, 10], [0, 0, 10, 9.0]]), np.array([[50, 50, 60, 60.0]])]
    scores = [np.array([0.9, 0.8]), np.array([0.7])]
    # image 0: a hit, then a duplicate (false positive); image 1: a miss
    assert detection_metrics.precision_recall(truth, preds, scores, 0.5) == (1 / 3, 0.5)
    assert detection_metrics.precision_recall(truth, preds, scores, 0.5, min_score=0.85) == (
        1.0,
        0.5,
    )
    precision, recall, at = detection_metrics.precision_recall_curve(truth, preds, scores)
    np.testing.assert_allclose(precision, [1, 0.5, 1 / 3])
    np.testing.assert_allclose(recall, [0.5, 0.5, 0.5])
    np.testing.assert_allclose(at, [0.9, 0.8, 0.7])


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (([[0, 0, 1, 1]], [[[0, 0, 1, 1]]], [[0.5, 0.4]]), "1 predicted boxes but 2 scores"),
        (([[0, 0, 1, 1]], [[0, 0, 1, 1], [0, 0, 1, 1]], [[0.5], [0.4]]), "one entry per image"),
        ((np.array([[0, 0, 1, 1.0]]), np.array([[1, 1, 0, 0.0]]), np.array([0.5])), "yxyx"),
        ((np.array([[0, 0, 1, np.nan]]), np.array([[0, 0, 1, 1.0]]), np.array([0.5])), "NaN"),
    ],
)
def test_scoring_refuses_bad_input_clearly(args, words):
    with pytest.raises(ValueError, match=words):
        detection_metrics.average_precision(*args)


def test_scoring_refuses_a_bad_threshold_and_no_truth():
    box = np.array([[0, 0, 1, 1.0]])
    with pytest.raises(ValueError, match=r"iou_threshold must lie in \(0, 1\]"):
        detection_metrics.precision_recall(box, box, np.array([1.0]), iou_threshold=50)
    with pytest.raises(ValueError, match="no true box"):
        detection_metrics.average_precision([np.zeros((0, 4))], box[None], [np.array([1.0])])


# --- boxes from files and masks --------------------------------------------------------------


@pytest.mark.skipif(not HAS_PETS, reason="needs the Oxford-IIIT Pet folder")
def test_read_voc_box_agrees_with_load_pets_head_bbox():
    examples = data.load_pets("train[:20]", f"folder:{PETS}").as_numpy_iterator()
    checked = 0
    for example in examples:
        xml = PETS / "annotations/xmls" / example["file_name"].decode().replace(".jpg", ".xml")
        if xml.is_file():
            box = bbox.read_voc_box(xml, normalize=True)
            np.testing.assert_allclose(box, bbox.yxyx_to_xyxy(example["head_bbox"]), atol=1e-6)
            checked += 1
    assert checked >= 10


def test_read_voc_box_by_pixels_and_bad_files(tmp_path):
    xml = tmp_path / "a.xml"
    xml.write_text(
        "<annotation><size><width>200</width><height>100</height></size><object><bndbox>"
        "<xmin>20</xmin><ymin>10</ymin><xmax>120</xmax><ymax>60</ymax></bndbox></object>"
        "</annotation>"
    )
    assert bbox.read_voc_box(xml).tolist() == [20, 10, 120, 60]
    assert bbox.read_voc_box(xml, normalize=True).tolist() == [0.1, 0.1, 0.6, 0.6]
    (tmp_path / "b.xml").write_text("<annotation><size/></annotation>")
    with pytest.raises(ValueError, match="not a PASCAL VOC annotation"):
        bbox.read_voc_box(tmp_path / "b.xml")
    with pytest.raises(FileNotFoundError, match="No VOC annotation"):
        bbox.read_voc_box(tmp_path / "missing.xml")


def lesson_02_mask_to_box():
    """The mask_to_box that lesson 02 teaches, taken from the notebook itself."""
    cells = json.loads((ROOT / "notebooks/02_iou.ipynb").read_text())["cells"]
    code = next("".join(c["source"]) for c in cells if "def mask_to_box" in "".join(c["source"]))
    namespace = {"np": np}
    exec(code.split("\n\n\n")[0], namespace)  # only the definition
    return namespace["mask_to_box"]


def test_mask_to_box_agrees_with_lesson_02_and_handles_batches():
    rng = np.random.default_rng(1)
    masks = np.zeros((5, 20, 30), bool)
    for m in masks:
        y, x = rng.integers(0, 15), rng.integers(0, 25)
        m[y : y + rng.integers(1, 6), x : x + rng.integers(1, 6)] = True
    taught = lesson_02_mask_to_box()
    np.testing.assert_array_equal(box_masks.mask_to_box(masks), [taught(m) for m in masks])
    np.testing.assert_array_equal(box_masks.mask_to_box(masks[0]), taught(masks[0]))
    boxes = box_masks.mask_to_box(masks[..., None], normalize=True)
    assert boxes.max() <= 1 and np.allclose(boxes * [30, 20, 30, 20], box_masks.mask_to_box(masks))
    assert box_masks.mask_to_box(np.zeros((4, 4), bool)).tolist() == [0, 0, 0, 0]


def test_mask_functions_refuse_label_masks():
    with pytest.raises(ValueError, match="masks != 1"):
        box_masks.mask_to_box(np.array([[0, 1], [2, 1]]))
    with pytest.raises(ValueError, match=r"expected one mask \(H, W\)"):
        box_masks.fill_ratio(np.zeros(5))


def test_box_to_mask_and_fill_ratio_and_box_mask_iou():
    mask = np.zeros((10, 10), bool)
    mask[2:6, 3:8] = True  # a 4 × 5 rectangle
    mask[2, 3] = False  # minus one corner pixel
    box = box_masks.mask_to_box(mask)
    assert box.tolist() == [3, 2, 8, 6]
    full = np.zeros((10, 10), bool)
    full[2:6, 3:8] = True
    np.testing.assert_array_equal(box_masks.box_to_mask(box, 10, 10), full)
    assert box_masks.fill_ratio(mask) == pytest.approx(19 / 20)
    assert box_masks.box_mask_iou(box, mask) == pytest.approx(19 / 20)  # own box: = fill ratio
    assert box_masks.box_mask_iou(box / 10, mask, normalized=True) == pytest.approx(19 / 20)
    half = np.array([3, 2, 5.5, 6])  # pixel centres 3.5 and 4.5 are inside, 5.5 is not
    assert box_masks.box_to_mask(half, 10, 10).sum() == 4 * 2
    ratios = box_masks.fill_ratio(np.stack([mask, mask.T]))
    np.testing.assert_allclose(ratios, [19 / 20, 19 / 20])


def test_box_giou_matches_the_definition_and_keras_cv():
    import keras_cv

    rng = np.random.default_rng(3)
    a, b = random_boxes(rng, 50), random_boxes(rng, 50)
    giou = bbox.box_giou(a, b)
    np.testing.assert_allclose(np.diag(bbox.box_iou(a, b)) >= giou, True)
    loss = keras_cv.losses.GIoULoss("xyxy", reduction="none")
    reference = [
        float(loss(a[i : i + 1].astype("float32"), b[i : i + 1].astype("float32")))
        for i in range(10)
    ]
    np.testing.assert_allclose(1 - giou[:10], reference, atol=1e-5)
    assert bbox.box_giou([0, 0, 1, 1], [0, 0, 1, 1]) == 1.0


# --- the detector and its losses -------------------------------------------------------------


def test_losses_agree_with_numpy_and_keras_cv():
    import keras_cv

    rng = np.random.default_rng(4)
    truth = random_boxes(rng, 16, side=1.0).clip(0, 1).astype("float32")
    pred = np.hstack([random_boxes(rng, 16, side=1.0).clip(0, 1), rng.random((16, 1))])
    pred = pred.astype("float32")
    iou = np.diag(bbox.box_iou(truth, pred[:, :4]))
    np.testing.assert_allclose(box_detector.iou_box_loss(truth, pred), 1 - iou, atol=1e-5)
    np.testing.assert_allclose(box_detector.mean_box_iou(truth, pred), iou, atol=1e-5)
    giou = bbox.box_giou(truth, pred[:, :4])
    np.testing.assert_allclose(box_detector.giou_box_loss(truth, pred), 1 - giou, atol=1e-5)
    mean_loss = keras_cv.losses.GIoULoss("xyxy")(truth, pred[:, :4])
    assert float(np.mean(box_detector.giou_box_loss(truth, pred))) == pytest.approx(
        float(mean_loss), abs=1e-5
    )
    l1 = np.abs(truth - pred[:, :4]).mean(axis=1)
    np.testing.assert_allclose(box_detector.l1_box_loss(truth, pred), l1, atol=1e-6)
    with pytest.raises(ValueError, match="box_loss must be one of"):
        box_detector.detection_loss("l2")


def test_detector_outputs_valid_boxes_and_learns_a_box():
    keras.utils.set_random_seed(0)
    model = box_detector.build_box_detector(32, filters=(8, 16))
    images = np.random.default_rng(0).integers(0, 255, (32, 32, 32, 3), dtype=np.uint8)
    images[:, 8:20, 4:28] = 255  # every image shows the same white box
    boxes = np.tile([[4 / 32, 8 / 32, 28 / 32, 20 / 32]], (32, 1)).astype("float32")
    out = model.predict(images / 255.0, verbose=0)
    assert out.shape == (32, 5)
    assert np.all(out[:, 2:4] >= out[:, :2]) and out.min() >= 0 and out.max() <= 1
    model.compile(keras.optimizers.Adam(3e-3), box_detector.detection_loss("giou"),
                  metrics=[box_detector.mean_box_iou])  # fmt: skip
    history = model.fit(box_detector.make_box_dataset(images, boxes, 8), epochs=15, verbose=0)
    assert history.history["mean_box_iou"][-1] > 0.8


def test_detector_and_dataset_refuse_bad_input():
    with pytest.raises(ValueError, match="divisible by 2"):
        box_detector.build_box_detector(50)
    images = np.zeros((2, 8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match="normalised to 0..1"):
        box_detector.make_box_dataset(images, np.array([[0, 0, 8, 8], [0, 0, 4, 4.0]]))
    with pytest.raises(ValueError, match="uint8 images"):
        box_detector.make_box_dataset(images / 255, np.zeros((2, 4)))


def test_flip_augmentation_moves_the_box_with_the_image():
    images = np.zeros((64, 16, 16, 3), np.uint8)
    images[:, :, :4] = 255  # a white band on the left
    boxes = np.tile([[0.0, 0.0, 0.25, 1.0]], (64, 1))
    for batch, batch_boxes in box_detector.make_box_dataset(images, boxes, 64, augment=True):
        batch, batch_boxes = batch.numpy(), batch_boxes.numpy()
    left = batch[:, 0, 0, 0] > 0.5
    assert 0 < left.sum() < 64  # some flipped, some not
    np.testing.assert_allclose(batch_boxes[left], boxes[left])
    np.testing.assert_allclose(batch_boxes[~left], np.tile([[0.75, 0, 1, 1]], ((~left).sum(), 1)))


def test_load_box_arrays_on_synthetic_scenes_gives_the_generator_boxes():
    from labutils.sources import synthetic

    images, masks, heads = box_detector.load_box_arrays("train[:3]", "synthetic", 32)
    assert images.shape == (3, 32, 32, 3) and masks.shape == (3, 32, 32, 1) and masks.max() <= 2
    expected = [synthetic.make_scene(i)["head_bbox"] for i in range(3)]
    np.testing.assert_allclose(heads, expected)
    assert len(box_detector.load_box_arrays("train", "synthetic", 32, limit=2)[0]) == 2


# --- instances ---------------------------------------------------------------------------------


@pytest.mark.parametrize("touching", [False, True])
def test_multi_pet_scene_instances(touching):
    import cv2

    scene = multi_pet.make_multi_pet_scene(3, num_pets=2, touching=touching)
    instances = scene["instances"]
    assert scene["image"].shape == (160, 320, 3) and instances.shape == (160, 320)
    assert set(np.unique(instances)) == {0, 1, 2}
    np.testing.assert_array_equal(scene["semantic"] == 0, instances > 0)
    count, _ = cv2.connectedComponents((instances > 0).astype(np.uint8), connectivity=8)
    if not touching:  # apart: never one blob
        assert count - 1 >= 2
    else:  # touching: the two pets share pixel edges
        shifted = instances[:, 1:] != instances[:, :-1]
        assert np.any(shifted & (instances[:, 1:] > 0) & (instances[:, :-1] > 0))
    with pytest.raises(ValueError, match="num_pets >= 2"):
        multi_pet.make_multi_pet_scene(0, num_pets=1)


# --- lesson 08: instances, mask AP, GrabCut and SAM ---------------------------------------------


def coco_segm_reference(true_ids, pred_masks, scores):
    """(AP, AP50, AP75) from pycocotools' segm evaluation; truths as label maps."""
    from pycocotools import mask as mask_utils

    rle = lambda m: mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))  # noqa: E731
    anns, dets, images = [], [], []
    for i, (ids, masks, sc) in enumerate(zip(true_ids, pred_masks, scores, strict=True)):
        images.append({"id": i, "height": ids.shape[0], "width": ids.shape[1]})
        for k in np.unique(ids[ids > 0]):
            r = rle(ids == k)
            anns.append({"id": len(anns) + 1, "image_id": i, "category_id": 1, "segmentation": r,
                         "area": float(mask_utils.area(r)), "iscrowd": 0,
                         "bbox": list(mask_utils.toBbox(r))})  # fmt: skip
        for m, s in zip(masks, sc, strict=True):
            dets.append(
                {"image_id": i, "category_id": 1, "segmentation": rle(m), "score": float(s)}
            )
    return run_cocoeval(images, anns, dets, "segm")


def test_mask_ap_agrees_with_pycocotools_segm_on_watershed_instances():
    rng = np.random.default_rng(0)
    true_ids, preds, scores = [], [], []
    for i in range(12):
        scene = multi_pet.make_multi_pet_scene(100 + i, num_pets=2 + i % 2, touching=i < 8)
        ids = multi_pet.split_touching(scene["semantic"] == 0, scene["image"])
        found = [ids == k for k in np.unique(ids[ids > 0])]
        true_ids.append(scene["instances"])
        preds.append(np.stack(found))
        scores.append(rng.random(len(found)))
    ours_ap = [detection_metrics.mask_average_precision(true_ids, preds, scores, t)
               for t in detection_metrics.COCO_IOU_THRESHOLDS]  # fmt: skip
    reference = coco_segm_reference(true_ids, preds, scores)
    assert 0.05 < reference[0] < 0.95  # a real mix of hits and misses
    mine = (np.mean(ours_ap), ours_ap[0], ours_ap[5])
    np.testing.assert_allclose(mine, reference, rtol=0, atol=1e-6)


def test_watershed_finds_touching_pets_that_components_merge_and_refuses_bad_input():
    """On touching pets, the lesson's claim: the watershed's mask AP50 beats connected
    components' (which see one blob); on pets apart, components are already right."""
    touching = [
        multi_pet.make_multi_pet_scene(100 + i, 2 + i % 2, touching=True) for i in range(10)
    ]
    truth = [s["instances"] for s in touching]

    def ap50(split):
        found = [[ids == k for k in np.unique(ids[ids > 0])] for ids in map(split, touching)]
        scores = [[m.sum() for m in f] for f in found]
        return detection_metrics.mask_average_precision(truth, [np.stack(f) for f in found], scores)

    watershed = ap50(lambda s: multi_pet.split_touching(s["semantic"] == 0, s["image"]))
    components = ap50(lambda s: cv2.connectedComponents(np.uint8(s["semantic"] == 0))[1])
    assert watershed > components + 0.2, (components, watershed)
    scene = touching[0]
    with pytest.raises(ValueError, match="peak_fraction"):
        multi_pet.split_touching(scene["semantic"] == 0, scene["image"], peak_fraction=1.5)


def test_grabcut_from_a_true_box_finds_a_drawn_pet_and_repeats():
    from labutils.sources import synthetic

    scene = synthetic.make_scene(3)
    pet = scene["segmentation_mask"][..., 0] != 2
    box = box_masks.mask_to_box(pet)
    mask = prompts.grabcut_mask(np.ascontiguousarray(scene["image"]), box)
    assert (mask & pet).sum() / (mask | pet).sum() > 0.6  # most of the drawn pet
    np.testing.assert_array_equal(mask, prompts.grabcut_mask(scene["image"].copy(), box))
    whole = prompts.grabcut_mask(scene["image"].copy(), [0, 0, *scene["image"].shape[1::-1]])
    assert whole.shape == pet.shape  # a box over the whole photo still runs (a 1-pixel frame)
    assert not prompts.grabcut_mask(scene["image"].copy(), [5, 5, 6, 6]).any()  # nothing to cut
    with pytest.raises(ValueError, match="uint8"):
        prompts.grabcut_mask(scene["image"].astype(float), box)


def test_sam_runs_offline_from_a_local_keras_hub_preset(tmp_path):
    """The lesson's offline path: save a tiny SAM as a preset, load it by folder, prompt it."""
    import keras_hub

    folder = prompts.save_tiny_sam_preset(tmp_path / "sam")
    assert (folder / "config.json").is_file() and (folder / "model.weights.h5").is_file()
    sam = keras_hub.models.SAMImageSegmenter.from_preset(str(folder))
    image = np.random.default_rng(0).integers(0, 255, (96, 80, 3), dtype=np.uint8)
    for prompt in ({"point": (40.0, 30.0)}, {"box": np.array([10.0, 5.0, 60.0, 70.0])}):
        mask, score = prompts.segment_with_sam(sam, image, **prompt)
        assert mask.shape == (96, 80) and mask.dtype == bool and np.isfinite(score)
    with pytest.raises(ValueError, match="exactly one prompt"):
        prompts.segment_with_sam(sam, image)
