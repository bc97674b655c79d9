import io
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from labutils import data, splits, vocabulary
from labutils.sources import folder

RED_CMYK = (0, 255, 255, 0)  # C M Y K of pure red


# --- a small dataset in the official layout, with every known fault ---------------------------


def _trimap(height, width):
    """A pet rectangle (1) ringed by border (3) on background (2)."""
    trimap = np.full((height, width), 2, np.uint8)
    trimap[4 : height - 4, 4 : width - 4] = 3
    trimap[6 : height - 6, 6 : width - 6] = 1
    return trimap


def _colour_image(colour, mode="RGB", size=(30, 40)):
    return Image.new(mode, size, colour)  # size is (width, height)


def _cmyk_jpeg_without_adobe_marker(colour):
    """A CMYK JPEG that stores plain (not Adobe-inverted) values and has no Adobe marker."""
    buffer = io.BytesIO()  # Pillow inverts what it writes and adds the marker, so pre-invert
    Image.new("CMYK", (30, 40), tuple(255 - c for c in colour)).save(buffer, "JPEG", quality=95)
    raw = buffer.getvalue()
    start = raw.index(b"\xff\xee")  # the APP14 "Adobe" segment
    length = int.from_bytes(raw[start + 2 : start + 4], "big")
    return raw[:start] + raw[start + 2 + length :]


def _jpeg_bytes(image, **kwargs):
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95, **kwargs)
    return buffer.getvalue()


def _png_bytes(image, fmt="PNG"):
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def _palette_image():
    palette_image = Image.new("P", (30, 40), 1)
    palette_image.putpalette([0, 0, 0, 200, 40, 90] + [0] * 762)
    return palette_image


GOOD = _jpeg_bytes(_colour_image((30, 120, 200)))
IMAGES = {  # name -> (bytes of NAME.jpg, the RGB it must decode to, or None for "skipped")
    "rgb_ok": (GOOD, (30, 120, 200)),
    "png_named_jpg": (_png_bytes(_colour_image((10, 20, 30))), (10, 20, 30)),
    "gif_named_jpg": (_png_bytes(_palette_image(), "GIF"), (200, 40, 90)),
    "palette_png": (_png_bytes(_palette_image()), (200, 40, 90)),
    "grayscale": (_jpeg_bytes(_colour_image(128, "L")), (128, 128, 128)),
    "cmyk_adobe": (_jpeg_bytes(_colour_image(RED_CMYK, "CMYK")), (255, 0, 0)),
    "cmyk_plain": (_cmyk_jpeg_without_adobe_marker(RED_CMYK), (255, 0, 0)),
    "rgba_png": (_png_bytes(_colour_image((10, 200, 30, 128), "RGBA")), (10, 200, 30)),
    "no_trimap": (GOOD, None),
    "background_only": (GOOD, None),
    "bad_values": (GOOD, None),
    "wrong_size": (GOOD, None),
    "truncated": (GOOD[: len(GOOD) // 2], None),
    "garbage": (b"this is not an image" * 10, None),
}
TRIMAPS = {name: _trimap(40, 30) for name in IMAGES if name != "no_trimap"}
TRIMAPS["background_only"] = np.full((40, 30), 2, np.uint8)
TRIMAPS["bad_values"] = _trimap(40, 30) * 85  # values 85, 170, 255, as in a "visible" trimap
TRIMAPS["wrong_size"] = _trimap(30, 40)
KEPT = [name for name, (_, rgb) in IMAGES.items() if rgb is not None]
HEAD_BOX = "<size><width>30</width><height>40</height></size>" + (
    "<object><bndbox><xmin>3</xmin><ymin>4</ymin><xmax>15</xmax><ymax>30</ymax></bndbox></object>"
)


@pytest.fixture
def faulty_folder(tmp_path):
    """The official layout; train lists every faulty image and one name with no image."""
    root = tmp_path / "oxford-iiit-pet"
    (root / "images").mkdir(parents=True)
    (root / "annotations" / "trimaps").mkdir(parents=True)
    (root / "annotations" / "xmls").mkdir()
    for name, (raw, _) in {**IMAGES, "test_ok": (GOOD, None)}.items():
        (root / "images" / f"{name}.jpg").write_bytes(raw)
    for name, trimap in {**TRIMAPS, "test_ok": _trimap(40, 30)}.items():
        Image.fromarray(trimap).save(root / "annotations" / "trimaps" / f"{name}.png")
    (root / "annotations" / "xmls" / "rgb_ok.xml").write_text(
        f"<annotation>{HEAD_BOX}</annotation>"
    )
    train = [*IMAGES, "listed_only"]  # class ids 1..37 cycle, species 1 (cat) / 2 (dog) alternate
    lines = [f"{n} {i % 37 + 1} {i % 2 + 1} 1" for i, n in enumerate([*train, "test_ok"])]
    (root / "annotations" / "list.txt").write_text(
        "#Image CLASS-ID SPECIES BREED ID\n" + "\n".join(lines)
    )
    (root / "annotations" / "trainval.txt").write_text("\n".join(lines[:-1]))
    (root / "annotations" / "test.txt").write_text(lines[-1])
    return root


def _load_quietly(split, source):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return data.load_pets(split, source)


def _by_name(dataset):
    return {ex["file_name"].decode(): ex for ex in dataset.as_numpy_iterator()}


def test_folder_keeps_the_right_images_with_exact_masks(faulty_folder):
    examples = _by_name(_load_quietly("train", f"folder:{faulty_folder}"))
    assert sorted(examples) == sorted(f"{name}.jpg" for name in KEPT)
    for name in KEPT:
        mask = examples[f"{name}.jpg"]["segmentation_mask"]
        assert mask.shape == (40, 30, 1) and mask.dtype == np.uint8
        np.testing.assert_array_equal(mask[..., 0], TRIMAPS[name])


@pytest.mark.parametrize("name", KEPT)
def test_folder_converts_every_format_to_the_right_rgb(faulty_folder, name):
    image = _by_name(_load_quietly("train", f"folder:{faulty_folder}"))[f"{name}.jpg"]["image"]
    assert image.shape == (40, 30, 3) and image.dtype == np.uint8
    expected = np.broadcast_to(IMAGES[name][1], image.shape)
    np.testing.assert_allclose(image, expected, atol=3)  # JPEG may be off by a level or two


def test_folder_warns_once_with_counts_of_what_it_converted_and_skipped(faulty_folder):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data.load_pets("train", f"folder:{faulty_folder}")
    assert len(caught) == 1, [str(w.message) for w in caught]
    message = str(caught[0].message)
    assert f"using {len(KEPT)} images" in message
    for expected in [
        "converted: CMYK image to RGB: 2 (cmyk_adobe, cmyk_plain)",
        "converted: GIF file named .jpg: 1 (gif_named_jpg)",
        "converted: PNG file named .jpg: 3",
        "converted: grayscale image to RGB: 1 (grayscale)",
        "skipped: no trimap: 1 (no_trimap)",
        "skipped: trimap without any pet pixel (background-only): 1 (background_only)",
        "skipped: trimap values outside {1, 2, 3}: 1 (bad_values)",
        "skipped: trimap size differs from image size: 1 (wrong_size)",
        "skipped: unreadable image: 2 (garbage, truncated)",
        "skipped: listed in trainval.txt but no image file: 1 (listed_only)",
    ]:
        assert expected in message, message


def test_folder_labels_species_and_head_boxes_come_from_the_annotations(faulty_folder):
    examples = _by_name(_load_quietly("train+test", f"folder:{faulty_folder}"))
    names = [*IMAGES, "listed_only", "test_ok"]  # the order of list.txt in the fixture
    for name, ex in examples.items():
        i = names.index(name.removesuffix(".jpg"))
        assert (ex["label"], ex["species"]) == (i % 37, i % 2)
    np.testing.assert_allclose(
        examples["rgb_ok.jpg"]["head_bbox"], [4 / 40, 3 / 30, 30 / 40, 15 / 30]
    )
    np.testing.assert_array_equal(examples["test_ok.jpg"]["head_bbox"], folder.NO_HEAD_BBOX)


def test_folder_and_synthetic_elements_match_tfds_features(faulty_folder):
    tfds = pytest.importorskip("tensorflow_datasets")
    features = tfds.builder("oxford_iiit_pet").info.features  # works offline
    for dataset in [
        _load_quietly("test", f"folder:{faulty_folder}"),
        data.load_pets("test[:1]", "synthetic"),
    ]:
        spec = dataset.element_spec
        assert set(spec) == set(features)
        for key, feature in features.items():
            assert spec[key].dtype == feature.tf_dtype, key
            assert tuple(spec[key].shape) == feature.shape, key


# --- split strings ----------------------------------------------------------------------------

SPLITS = [
    "train", "test", "train+test", "test[80%:]", "train+test[:80%]", "train[:100]",
    "test[10:20]", "test[-10%:]", "train[33.3%:66.6%]", "test[:-5]", "test[10%:20]",
    "train[50%:]", "train[:0]", "test[25%:75%] + train[:3]",
]  # fmt: skip


@pytest.mark.parametrize("split", SPLITS)
def test_split_boundaries_match_tfds(split):
    tfds = pytest.importorskip("tensorflow_datasets")
    sizes = {"train": 763, "test": 342}
    infos = {
        n: tfds.core.SplitInfo(name=n, shard_lengths=[k], num_bytes=0) for n, k in sizes.items()
    }
    expected = [
        (a.splitname, a.from_ or 0, sizes[a.splitname] if a.to is None else a.to)
        for a in tfds.core.ReadInstruction.from_spec(split).to_absolute(infos)
    ]
    assert splits.absolute_slices(split, sizes) == expected


@pytest.mark.parametrize(
    "split",
    [
        "validation",
        "train[::2]",
        "train[",
        "train[:]",
        "train[a:b]",
        "train[5]",
        "train[1.5:3]",
        "",
    ],
)
def test_bad_split_strings_list_the_valid_forms(split):
    with pytest.raises(ValueError, match="Valid forms: 'train', 'test'"):
        data.load_pets(split, "synthetic")


def test_slices_beyond_the_split_say_how_many_there_are():
    with pytest.raises(ValueError, match="'test' has 200 here"):
        data.load_pets("test[:500]", "synthetic")


# --- choosing a source ------------------------------------------------------------------------


@pytest.fixture
def bare_home(tmp_path, monkeypatch):
    """No SEGLAB_DATA, an empty data/ folder, no TFDS data, not on Colab."""
    monkeypatch.delenv("SEGLAB_DATA", raising=False)
    monkeypatch.setenv("SEGLAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    return tmp_path / "home"


def test_auto_falls_back_to_synthetic_and_says_these_are_not_photos(bare_home, capsys):
    source = data.find_source()
    assert source == data.find_source("synthetic", verbose=False)
    printed = capsys.readouterr().out
    assert printed.startswith("Data source: synthetic") and "NOT real photos" in printed
    assert "SEGLAB_DATA" in printed and "data/oxford-iiit-pet/" in printed


def test_auto_prefers_the_data_folder_then_tfds_on_colab(bare_home, faulty_folder, monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert data.find_source(verbose=False).kind == "tfds"
    bare_home.mkdir()
    faulty_folder.rename(bare_home / "oxford-iiit-pet")
    source = data.find_source(verbose=False)
    assert (source.kind, source.path) == ("folder", bare_home / "oxford-iiit-pet")
    assert source.description.endswith("real Oxford-IIIT Pet photos (15 images)")


@pytest.mark.parametrize("word", ["synthetic", "tfds"])
def test_seglab_data_words_force_a_source(bare_home, monkeypatch, word):
    monkeypatch.setenv("SEGLAB_DATA", word)
    assert data.find_source(verbose=False).kind == word


def test_seglab_data_folder_path(bare_home, faulty_folder, monkeypatch):
    monkeypatch.setenv("SEGLAB_DATA", str(faulty_folder))
    assert data.find_source(verbose=False) == data.find_source(f"folder:{faulty_folder}", False)
    assert data.find_source(verbose=False).path == faulty_folder


def test_a_missing_seglab_data_folder_says_so_and_how_to_fix(bare_home, tmp_path, monkeypatch):
    monkeypatch.setenv("SEGLAB_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="SEGLAB_DATA: .*there is no such folder.*To fix"):
        data.find_source()


def test_a_folder_in_another_layout_lists_what_is_missing(tmp_path):
    (tmp_path / "pets" / "images").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="missing annotations/trimaps, annotations/list"):
        data.find_source(str(tmp_path / "pets"))
    with pytest.raises(FileNotFoundError, match="Point to the folder that holds images/"):
        data.find_source(str(tmp_path / "pets" / "images"))


def test_unknown_data_source_kind_is_rejected():
    with pytest.raises(ValueError, match="'folder', 'tfds' or 'synthetic'"):
        data.load_pets("train", data.DataSource("kaggle", None, ""))


def test_tfds_source_rejects_a_bad_split_before_touching_tfds(tmp_path):
    """No test may download: this checks only what happens before TFDS is asked for data."""
    with pytest.raises(ValueError, match="split"):
        data.load_pets("validation", data.DataSource("tfds", tmp_path, "tfds"))


# --- the synthetic source ---------------------------------------------------------------------


def test_synthetic_source_serves_600_train_and_200_test_scenes():
    from labutils.sources import synthetic

    assert data.load_pets("train", "synthetic").cardinality() == 600
    assert data.load_pets("test", "synthetic").cardinality() == 200
    first = next(data.load_pets("test[:1]", "synthetic").as_numpy_iterator())
    scene = synthetic.make_scene(600)
    np.testing.assert_array_equal(first["image"], scene["image"])
    np.testing.assert_array_equal(first["segmentation_mask"], scene["segmentation_mask"])
    assert first["file_name"].decode() == scene["file_name"]
    assert (first["label"], first["species"]) == (scene["label"], scene["species"])


# --- the real sample CI uses (SEGLAB_DATA; skipped where it is absent) ---------------------------

SAMPLE_PHOTOS = 1105  # the counts below are those of CI's sample of the official dataset


@pytest.fixture(scope="module")
def sample(pets_folder):
    """CI's real sample: 1,105 photos of the official folder, 763 listed for training."""
    if len(list((pets_folder / "images").glob("*.jpg"))) != SAMPLE_PHOTOS:
        pytest.skip(f"the counts are those of the {SAMPLE_PHOTOS:,}-photo sample CI uses")
    return pets_folder


@pytest.fixture(scope="module")
def real_examples(sample):
    """Everything about every real example except the pixels."""
    rows = []
    for ex in _load_quietly("train+test", f"folder:{sample}").as_numpy_iterator():
        mask = ex["segmentation_mask"]
        facts = (ex["file_name"].decode(), ex["label"], ex["species"], tuple(ex["head_bbox"]))
        rows.append(
            (*facts, set(np.unique(mask).tolist()), ex["image"].shape[:2] == mask.shape[:2])
        )
    return rows


@pytest.mark.parametrize(
    "split, count",
    [("train", 763), ("test", 342), ("test[80%:]", 68), ("train+test[:80%]", 763 + 274),
     ("train[:100]", 100), ("test[10:20]", 10)],
)  # fmt: skip
def test_real_folder_split_sizes(sample, split, count):
    assert _load_quietly(split, f"folder:{sample}").cardinality() == count


def test_real_folder_masks_labels_species_and_boxes(sample, real_examples):
    listed = {}
    for line in (sample / "annotations" / "list.txt").read_text().splitlines():
        if not line.startswith("#"):
            name, class_id, species, _ = line.split()
            listed[f"{name}.jpg"] = (int(class_id) - 1, int(species) - 1)
    assert len(real_examples) == SAMPLE_PHOTOS
    for name, label, species, head_bbox, values, same_size in real_examples:
        assert values <= {1, 2, 3} and 1 in values and same_size, name
        assert 0 <= label <= 36 and (label, species) == listed[name], name
        assert vocabulary.SPECIES_NAMES[species] == ("cat" if name[0].isupper() else "dog"), name
        assert vocabulary.BREED_NAMES[label] == name.rsplit("_", 1)[0], name
        ymin, xmin, ymax, xmax = head_bbox
        has_xml = (sample / "annotations" / "xmls" / name.replace(".jpg", ".xml")).is_file()
        assert (0 <= ymin < ymax <= 1 and 0 <= xmin < xmax <= 1) if has_xml else not any(head_bbox)


def test_real_folder_slices_mix_breeds_like_tfds(pets_folder):
    """The split files list names breed by breed; a slice must still hold (almost) every breed."""
    labels = {int(ex["label"]) for ex in _load_quietly("test[80%:]", f"folder:{pets_folder}")}
    assert len(labels) >= 25, f"test[80%:] holds only {len(labels)} of 37 breeds"
    first = [ex["file_name"] for ex in _load_quietly("test[:5]", f"folder:{pets_folder}")]
    again = [ex["file_name"] for ex in _load_quietly("test[:5]", f"folder:{pets_folder}")]
    assert [f.numpy() for f in first] == [f.numpy() for f in again], "the order is deterministic"


# --- the tfds source through TFDS's own mock (tfds.testing.mock_data): no download -----------

TFDS_SIZES = {"train": 3680, "test": 3669}  # the official split sizes, in the mock's metadata


@pytest.fixture
def mocked_tfds(tmp_path):
    """A tfds DataSource whose tfds.builder / as_dataset are TFDS's mocks, with real metadata."""
    tfds = pytest.importorskip("tensorflow_datasets")
    builder = tfds.builder("oxford_iiit_pet", data_dir=tmp_path / "metadata")
    splits = [
        tfds.core.SplitInfo(name=n, shard_lengths=[k], num_bytes=0) for n, k in TFDS_SIZES.items()
    ]
    builder.info.set_splits(tfds.core.SplitDict(splits))
    Path(builder.data_dir).mkdir(parents=True)
    builder.info.write_to_directory(builder.data_dir)  # dataset_info.json, features.json
    with (
        warnings.catch_warnings(),
        tfds.testing.mock_data(num_examples=3, data_dir=str(tmp_path / "metadata")),
    ):
        warnings.simplefilter("ignore", DeprecationWarning)
        yield data.DataSource("tfds", tmp_path / "tfds", "tfds (mocked)")
    assert not (tmp_path / "tfds").exists(), "the mocked tfds source downloaded nothing"


def test_tfds_source_has_the_folder_sources_element_spec(mocked_tfds, faulty_folder):
    from_tfds = data.load_pets(splits.TRAIN_SPLIT, mocked_tfds)
    from_folder = _load_quietly(splits.TRAIN_SPLIT, f"folder:{faulty_folder}")
    assert from_tfds.element_spec == from_folder.element_spec
    example = next(iter(from_tfds))  # one of TFDS's fake examples, through our code path
    assert example["image"].shape[-1] == 3 and example["segmentation_mask"].shape[-1] == 1
    assert len(from_tfds) == 3


def test_tfds_source_batches_like_the_folder_source(mocked_tfds, faulty_folder):
    from labutils import pipeline

    specs = [
        pipeline.make_dataset(
            splits.VAL_SPLIT, source, 32, 2, shuffle=False, cache=False
        ).element_spec
        for source in (mocked_tfds, data.DataSource("folder", faulty_folder, "folder"))
    ]
    assert specs[0] == specs[1]


@pytest.mark.parametrize(
    "split", [splits.TRAIN_SPLIT, splits.VAL_SPLIT, splits.TEST_SPLIT, "train[:50%]+test[50%:]"]
)
def test_tfds_source_hands_the_split_to_tfds_unchanged(mocked_tfds, faulty_folder, split):
    from unittest import mock

    import tensorflow_datasets as tfds

    mocked = tfds.core.DatasetBuilder.as_dataset
    with mock.patch.object(tfds.core.DatasetBuilder, "as_dataset", autospec=True,
                           side_effect=mocked) as as_dataset:  # fmt: skip
        data.load_pets(split, mocked_tfds)
    assert as_dataset.call_args.kwargs["split"] == split
    _load_quietly(split, f"folder:{faulty_folder}")  # the folder source takes it too


@pytest.mark.parametrize("split", ["validation", "train[::2]", "train[", "tests"])
def test_tfds_and_folder_sources_refuse_bad_splits_alike(mocked_tfds, faulty_folder, split):
    messages = []
    for source in (mocked_tfds, f"folder:{faulty_folder}"):
        with pytest.raises(ValueError) as error:
            _load_quietly(split, source)
        messages.append(str(error.value))
    assert messages[0] == messages[1] and split in messages[0]


def test_tfds_source_refuses_slices_beyond_the_official_sizes(mocked_tfds):
    with pytest.raises(ValueError, match="'train' has 3680"):
        data.load_pets("train[4000:]", mocked_tfds)
