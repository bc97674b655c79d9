"""The three sources of Oxford-IIIT Pet examples behind one function, :func:`load_pets`.

Every source yields the elements of TFDS ``oxford_iiit_pet`` 4.0.0:

- ``image``: uint8 (H, W, 3), RGB.
- ``segmentation_mask``: uint8 (H, W, 1), the trimap: 1 = pet, 2 = background, 3 = border.
  After ``mask - 1``: 0 = pet, 1 = background, 2 = border (:data:`CLASS_NAMES`).
- ``file_name``: string, e.g. ``"Abyssinian_100.jpg"``.
- ``label``: int64, the breed, 0..36 (:data:`BREED_NAMES`).
- ``species``: int64, 0 = cat, 1 = dog (:data:`SPECIES_NAMES`).
- ``head_bbox``: float32 (4,), ``[ymin, xmin, ymax, xmax]`` in 0..1 of the image size;
  all zeros (TFDS's placeholder) where the dataset has no head box (e.g. the test split).

The sources: ``"folder"`` (the unpacked official ``images.tar.gz`` + ``annotations.tar.gz``),
``"tfds"`` (``tensorflow_datasets``) and ``"synthetic"`` (generated scenes, not real photos).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import sys
import warnings
import xml.etree.ElementTree as ET
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from PIL import Image, ImageChops

from labutils import env

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = [
    "BREED_NAMES",
    "CLASS_NAMES",
    "NO_HEAD_BBOX",
    "NUM_CLASSES",
    "SPECIES_NAMES",
    "TEST_SPLIT",
    "TRAIN_SPLIT",
    "VAL_SPLIT",
    "DataSource",
    "find_source",
    "load_pets",
]

#: Class names of ``mask - 1``: index 0 = pet, 1 = background, 2 = border.
CLASS_NAMES = ("pet", "background", "border")
NUM_CLASSES = 3
#: The 37 breeds in the order of ``label`` (TFDS's order; cat breeds are capitalised).
BREED_NAMES = (
    "Abyssinian", "american_bulldog", "american_pit_bull_terrier", "basset_hound", "beagle",
    "Bengal", "Birman", "Bombay", "boxer", "British_Shorthair", "chihuahua", "Egyptian_Mau",
    "english_cocker_spaniel", "english_setter", "german_shorthaired", "great_pyrenees",
    "havanese", "japanese_chin", "keeshond", "leonberger", "Maine_Coon", "miniature_pinscher",
    "newfoundland", "Persian", "pomeranian", "pug", "Ragdoll", "Russian_Blue", "saint_bernard",
    "samoyed", "scottish_terrier", "shiba_inu", "Siamese", "Sphynx",
    "staffordshire_bull_terrier", "wheaten_terrier", "yorkshire_terrier",
)  # fmt: skip
SPECIES_NAMES = ("cat", "dog")
#: The course's protocol, one definition for lessons, command line and benchmark. The model
#: learns on TRAIN_SPLIT; VAL_SPLIT (the last 15 % of the official training photos, mixed
#: across breeds by the hash order of the names) chooses the epoch, early stopping and every
#: setting; TEST_SPLIT (the official test photos) is scored once, by the model validation chose.
TRAIN_SPLIT = "train[:85%]"
VAL_SPLIT = "train[85%:]"
TEST_SPLIT = "test"
#: ``head_bbox`` of an example without a head box (TFDS uses the same placeholder).
NO_HEAD_BBOX = (0.0, 0.0, 0.0, 0.0)

_TFDS_NAME = "oxford_iiit_pet:4.*.*"
_SPLIT_FILES = {"train": "trainval.txt", "test": "test.txt"}
_LAYOUT = (
    "images",
    "annotations/trimaps",
    "annotations/list.txt",
    "annotations/trainval.txt",
    "annotations/test.txt",
)
_HOW_TO_GET_DATA = (
    "set SEGLAB_DATA=/path/to/oxford-iiit-pet, or extract the official images.tar.gz and "
    "annotations.tar.gz (https://www.robots.ox.ac.uk/~vgg/data/pets/) into "
    "data/oxford-iiit-pet/ (see README.md)"
)
_VALID_SPLITS = (
    "'train', 'test', 'train[:100]', 'test[10:20]', 'train[:80%]', 'train[80%:]', "
    "'train+test[:50%]' (TFDS slicing, https://www.tensorflow.org/datasets/splits)"
)
# Pixel modes found in the wild, and what converting them to RGB means.
_TO_RGB = {
    "RGB": None,
    "L": "grayscale",
    "LA": "grayscale with alpha (alpha dropped)",
    "1": "black-and-white",
    "P": "palette",
    "RGBA": "RGBA (alpha dropped)",
    "CMYK": "CMYK",
}


@dataclass(frozen=True)
class DataSource:
    """Where :func:`load_pets` reads from.

    Attributes:
        kind: ``"folder"``, ``"tfds"`` or ``"synthetic"``.
        path: the dataset folder (folder), the TFDS data directory (tfds), or None (synthetic).
        description: one line for people, e.g. ``"folder /x/oxford-iiit-pet: real ... photos"``.
    """

    kind: str
    path: Path | None
    description: str


def find_source(source: str = "auto", verbose: bool = True) -> DataSource:
    """Decide where the pet examples come from, and say so.

    With ``"auto"``: ``$SEGLAB_DATA`` if set (a folder path, or the word ``synthetic`` or
    ``tfds``); else ``data/oxford-iiit-pet/`` if present; else TFDS when already prepared or
    on Colab (where it can download); else the synthetic scenes.

    Args:
        source: ``"auto"``, ``"synthetic"``, ``"tfds"``, ``"folder"`` (``data/oxford-iiit-pet``),
            ``"folder:/path"`` or a folder path. A relative path is looked up from the current
            folder, then from the checkout's root.
        verbose: print ``Data source: <description>``.

    Returns:
        The chosen :class:`DataSource`.

    Raises:
        FileNotFoundError: the folder is missing or not in the official layout.
    """
    from_env = os.environ.get("SEGLAB_DATA", "").strip()
    if source == "auto" and from_env:
        chosen = _parse_source(from_env, origin="SEGLAB_DATA")
    elif source == "auto":
        chosen = _default_source()
    else:
        chosen = _parse_source(source, origin="source")
    if verbose:
        print(f"Data source: {chosen.description}")
    return chosen


def load_pets(split: str = "train", source: str | DataSource = "auto") -> tf.data.Dataset:
    """Load Oxford-IIIT Pet examples as a ``tf.data.Dataset`` of TFDS-style dicts.

    Args:
        split: ``"train"`` (official trainval.txt) or ``"test"`` (test.txt), with TFDS slicing
            and sums: ``"train[:100]"``, ``"test[80%:]"``, ``"train+test[:80%]"``.
        source: anything :func:`find_source` accepts, or a :class:`DataSource`.

    Returns:
        Unbatched dicts: ``image`` uint8 (H, W, 3), ``segmentation_mask`` uint8 (H, W, 1) with
        1 pet / 2 background / 3 border, ``file_name`` string, ``label`` int64 0..36,
        ``species`` int64 0..1, ``head_bbox`` float32 (4,) (see the module docstring).
        The folder source warns once, listing the images it converted or skipped.

    Raises:
        ValueError: a split string in none of the valid forms, or a slice out of range.
        FileNotFoundError: see :func:`find_source`.
        RuntimeError: the tfds source is not downloaded and cannot download.
    """
    if not isinstance(source, DataSource):
        source = find_source(source, verbose=False)
    if source.kind == "folder":
        return _load_folder(source.path, split)
    if source.kind == "tfds":
        return _load_tfds(source.path, split)
    if source.kind == "synthetic":
        return _load_synthetic(split)
    raise ValueError(
        f"DataSource.kind must be 'folder', 'tfds' or 'synthetic', got {source.kind!r}."
    )


# --- choosing a source ---------------------------------------------------------------------


def _parse_source(spec: str, origin: str) -> DataSource:
    word = spec.strip()
    if word.lower() == "synthetic":
        return _synthetic_source()
    if word.lower() == "tfds":
        return _tfds_source()
    if word == "folder":
        return _folder_source(env.data_dir() / "oxford-iiit-pet", origin)
    return _folder_source(_resolve_path(word.removeprefix("folder:")), origin)


def _default_source() -> DataSource:
    folder = env.data_dir() / "oxford-iiit-pet"
    if folder.is_dir():
        return _folder_source(folder, origin="data/oxford-iiit-pet")
    if _prepared_tfds_dir() is not None or "google.colab" in sys.modules:
        return _tfds_source()
    return _synthetic_source()


def _resolve_path(text: str) -> Path:
    path = Path(text).expanduser()
    from_checkout = Path(__file__).resolve().parent.parent / path
    if not path.is_absolute() and not path.exists() and from_checkout.exists():
        return from_checkout.resolve()
    return path.resolve()


def _folder_source(path: Path, origin: str) -> DataSource:
    missing = [part for part in _LAYOUT if not (path / part).exists()]
    if not path.is_dir() or missing:
        found = "there is no such folder" if not path.is_dir() else f"missing {', '.join(missing)}"
        raise FileNotFoundError(
            f"{origin}: {path} is not an Oxford-IIIT Pet folder ({found}). Expected the official "
            f"layout: {', '.join(_LAYOUT)}.{_layout_hint(path)} To fix: {_HOW_TO_GET_DATA}; "
            "or use SEGLAB_DATA=synthetic."
        )
    count = sum(1 for entry in os.scandir(path / "images") if entry.name.endswith(".jpg"))
    return DataSource(
        "folder", path, f"folder {path}: real Oxford-IIIT Pet photos ({count:,} images)"
    )


def _layout_hint(path: Path) -> str:
    if (path / "oxford-iiit-pet").is_dir():
        return f" Did you mean {path / 'oxford-iiit-pet'}?"
    if path.name in ("images", "annotations", "trimaps"):
        return f" Point to the folder that holds images/ and annotations/, e.g. {path.parent}."
    return ""


def _prepared_tfds_dir() -> Path | None:
    default = os.environ.get("TFDS_DATA_DIR", str(Path.home() / "tensorflow_datasets"))
    for data_dir in (env.data_dir() / "tensorflow_datasets", Path(default)):
        if any((data_dir / "oxford_iiit_pet").glob("4.*/dataset_info.json")):
            return data_dir
    return None


def _tfds_source() -> DataSource:
    prepared = _prepared_tfds_dir()
    if prepared is not None:
        return DataSource("tfds", prepared, f"tfds {prepared}: real Oxford-IIIT Pet photos")
    target = env.data_dir() / "tensorflow_datasets"
    return DataSource(
        "tfds", target, f"tfds {target}: real Oxford-IIIT Pet photos, downloaded on first use"
    )


def _synthetic_source() -> DataSource:
    from labutils import synthetic  # imported here: synthetic builds on this module

    sizes = ", ".join(f"{len(synthetic.scene_indices(s))} {s}" for s in _SPLIT_FILES)
    return DataSource(
        "synthetic",
        None,
        f"synthetic: generated pet-like scenes, NOT real photos ({sizes}). "
        f"For the real photos: {_HOW_TO_GET_DATA}.",
    )


# --- split strings, with TFDS semantics ----------------------------------------------------

_PART_RE = re.compile(r"(?P<name>\w+)(?:\[(?P<start>[^\[\]:]*):(?P<stop>[^\[\]:]*)\])?")
_BOUND_RE = re.compile(r"-?\d+(?:\.\d*)?%|-?\d+")  # fractions only as percentages


def _parse_split(split: str) -> list[tuple[str, str | None, str | None]]:
    """Split ``"train+test[:80%]"`` into ``[("train", None, None), ("test", "", "80%")]``."""
    parts = []
    for part in re.split(r"\s*\+\s*", str(split).strip()):
        match = _PART_RE.fullmatch(part)
        bounds = [b for b in (match["start"], match["stop"]) if b] if match else []
        has_slice = match is not None and match["start"] is not None
        if (
            match is None
            or match["name"] not in _SPLIT_FILES
            or not all(_BOUND_RE.fullmatch(b) for b in bounds)
            or (has_slice and not bounds)
        ):
            raise ValueError(f"Unrecognised split {split!r}. Valid forms: {_VALID_SPLITS}.")
        parts.append((match["name"], match["start"], match["stop"]))
    return parts


def _absolute_slices(split: str, sizes: dict[str, int]) -> list[tuple[str, int, int]]:
    """Turn a split string into ``(name, start, stop)`` index ranges, as TFDS does.

    Percent bounds round to the closest integer (``int(round(pct * n / 100))``); negative
    bounds count from the end; a bound beyond the split's size is an error.
    """
    slices = []
    for name, start, stop in _parse_split(split):
        n = sizes[name]
        is_pct = "%" in f"{start}{stop}"
        bounds = []
        for text, default in ((start, 0), (stop, n)):
            if not text:
                bounds.append(default)
                continue
            value = float(text.rstrip("%")) if is_pct else int(text.rstrip("%"))
            index = int(round(value * n / 100)) if is_pct else value
            if abs(index) > n:
                raise ValueError(
                    f"Split {split!r}: [{start}:{stop}] needs {abs(index)} examples, but "
                    f"{name!r} has {n} here. Use a smaller slice or percentages."
                )
            bounds.append(index + n if index < 0 else index)
        slices.append((name, bounds[0], bounds[1]))
    return slices


# --- the folder source ---------------------------------------------------------------------


class _Record(NamedTuple):
    image_path: str
    trimap_path: str
    file_name: str
    label: int
    species: int
    head_bbox: tuple[float, float, float, float]


class _Skip(Exception):
    """An image or trimap that must not be used; the message says why."""


def _load_folder(root: Path, split: str) -> tf.data.Dataset:
    parts = _parse_split(split)  # fail fast on a bad split string, before reading any file
    catalogue = _read_list(root / "annotations" / "list.txt")
    images = {entry.name for entry in os.scandir(root / "images")}
    notes: dict[str, list[str]] = defaultdict(list)  # what happened -> names
    records: dict[str, list[_Record]] = {}
    for name in dict.fromkeys(part[0] for part in parts):
        listed = _read_list(root / "annotations" / _SPLIT_FILES[name])
        with_image = [n for n in listed if f"{n}.jpg" in images]
        notes[f"skipped: listed in {_SPLIT_FILES[name]} but no image file"] += [
            n for n in listed if f"{n}.jpg" not in images
        ]
        notes["skipped: not in list.txt, so no label"] += [
            n for n in with_image if n not in catalogue
        ]
        usable = sorted((n for n in with_image if n in catalogue), key=_mixing_key)
        records[name] = _scan_pairs(root, usable, catalogue, notes)
    slices = _absolute_slices(split, {name: len(rows) for name, rows in records.items()})
    selected = [row for name, start, stop in slices for row in records[name][start:stop]]
    _warn_about(notes, root, split, len(selected))
    return _records_to_dataset(selected)


def _mixing_key(name: str) -> str:
    """Order examples by a hash of their name, as TFDS does, so every slice mixes all breeds.

    The split files list names by breed; in that order ``"test[80%:]"`` would hold only the
    last few breeds.
    """
    return hashlib.md5(name.encode()).hexdigest()


def _read_list(path: Path) -> dict[str, tuple[int, int]]:
    """Read list.txt / trainval.txt / test.txt: ``NAME CLASS-ID SPECIES BREED-ID`` lines."""
    rows = {}
    for line in path.read_text().splitlines():
        fields = line.split()
        if len(fields) >= 3 and not line.startswith("#"):
            rows[fields[0]] = (int(fields[1]) - 1, int(fields[2]) - 1)  # label 0..36, species 0..1
    return rows


def _scan_pairs(
    root: Path, names: list[str], catalogue: dict, notes: dict[str, list[str]]
) -> list[_Record]:
    """Check each image and trimap once; keep the usable pairs, note conversions and skips."""
    paths = [
        (root / "images" / f"{n}.jpg", root / "annotations/trimaps" / f"{n}.png") for n in names
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:  # PIL decodes without holding the GIL
        verdicts = list(pool.map(lambda pair: _check_pair(*pair), paths))
    records = []
    for name, (image_path, trimap_path), (is_usable, remarks) in zip(
        names, paths, verdicts, strict=True
    ):
        for remark in remarks:
            notes[remark].append(name)
        if is_usable:
            head_bbox = _read_head_bbox(root / "annotations" / "xmls" / f"{name}.xml")
            if head_bbox is None:
                notes["unreadable head box xml (head_bbox set to zeros)"].append(name)
            label, species = catalogue[name]
            row = (str(image_path), str(trimap_path), f"{name}.jpg", label, species)
            records.append(_Record(*row, head_bbox or NO_HEAD_BBOX))
    return records


def _check_pair(image_path: Path, trimap_path: Path) -> tuple[bool, tuple[str, ...]]:
    """Return (usable, remarks); results are cached while the files are unchanged."""
    if not trimap_path.is_file():
        return False, ("skipped: no trimap",)
    stamps = tuple((p.stat().st_mtime_ns, p.stat().st_size) for p in (image_path, trimap_path))
    return _check_pair_cached(str(image_path), str(trimap_path), stamps)


@functools.cache
def _check_pair_cached(image_path: str, trimap_path: str, stamps: tuple) -> tuple[bool, tuple]:
    del stamps  # only part of the cache key
    try:
        image, remarks = _decode_image(image_path)
    except _Skip as skip:
        return False, (f"skipped: {skip}",)
    try:
        trimap = _decode_trimap(trimap_path)
    except _Skip as skip:
        return False, (f"skipped: {skip}",)
    if trimap.shape != image.shape[:2]:
        return False, ("skipped: trimap size differs from image size",)
    return True, tuple(f"converted: {remark}" for remark in remarks)


def _decode_image(path: str) -> tuple[np.ndarray, list[str]]:
    """Decode any image file as RGB uint8 (H, W, 3), with remarks on what was converted.

    EXIF orientation is ignored on purpose: the trimaps follow the stored pixels.
    """
    try:
        with Image.open(path) as img:
            remarks = [] if img.format == "JPEG" else [f"{img.format} file named .jpg"]
            if img.mode not in _TO_RGB:
                raise _Skip(f"image in unsupported pixel mode {img.mode}")
            if img.mode == "CMYK" and "adobe" not in img.info:
                img = ImageChops.invert(img)  # Pillow assumes Adobe's inverted CMYK; this isn't
            if _TO_RGB[img.mode]:
                remarks.append(f"{_TO_RGB[img.mode]} image to RGB")
            return np.asarray(img.convert("RGB")), remarks
    except (OSError, SyntaxError, ValueError) as err:  # Pillow's ways of saying "corrupt"
        raise _Skip("unreadable image") from err


def _decode_trimap(path: str) -> np.ndarray:
    """Decode a trimap as uint8 (H, W) with values in {1, 2, 3} and at least one pet pixel."""
    try:
        with Image.open(path) as img:
            values = np.asarray(img)
    except (OSError, SyntaxError, ValueError) as err:
        raise _Skip("unreadable trimap") from err
    if values.ndim == 3 and (values == values[..., :1]).all():
        values = values[..., 0]  # a grey trimap saved with identical colour channels
    if values.ndim != 2:
        raise _Skip("trimap with several different channels")
    if not np.isin(values, (1, 2, 3)).all():
        raise _Skip("trimap values outside {1, 2, 3}")
    if not (values == 1).any():
        raise _Skip("trimap without any pet pixel (background-only)")
    return values.astype(np.uint8)


def _read_head_bbox(path: Path) -> tuple[float, float, float, float] | None:
    """``[ymin, xmin, ymax, xmax]`` / the size in a VOC xml, as TFDS reads it; None if unreadable.

    No xml (as for every test image) means no head box: :data:`NO_HEAD_BBOX`.
    """
    if not path.is_file():
        return NO_HEAD_BBOX
    try:
        root = ET.parse(path).getroot()
        size = [float(root.findtext(f"size/{key}")) for key in ("height", "width")]
        box = [
            float(root.findtext(f"object/bndbox/{key}")) for key in ("ymin", "xmin", "ymax", "xmax")
        ]
        return tuple(value / size[i % 2] for i, value in enumerate(box))
    except (ET.ParseError, TypeError, ValueError, ZeroDivisionError):  # bad xml, missing field
        return None


def _warn_about(notes: dict[str, list[str]], root: Path, split: str, kept: int) -> None:
    """One warning that lists, with counts and examples, what was converted and skipped."""
    lines = [
        f"  {what}: {len(names):,} ({', '.join(sorted(names)[:3])}{', ...' * (len(names) > 3)})"
        for what, names in sorted(notes.items())
        if names
    ]
    if lines:
        warnings.warn(
            f"Oxford-IIIT Pet folder {root}, split {split!r}: using {kept:,} images.\n"
            + "\n".join(lines),
            stacklevel=4,
        )


def _records_to_dataset(records: list[_Record]) -> tf.data.Dataset:
    import tensorflow as tf

    columns = {
        "image_path": tf.constant([r.image_path for r in records], tf.string),
        "trimap_path": tf.constant([r.trimap_path for r in records], tf.string),
        "file_name": tf.constant([r.file_name for r in records], tf.string),
        "label": tf.constant([r.label for r in records], tf.int64),
        "species": tf.constant([r.species for r in records], tf.int64),
        "head_bbox": tf.constant(np.reshape([r.head_bbox for r in records], (-1, 4)), tf.float32),
    }
    return tf.data.Dataset.from_tensor_slices(columns).map(
        _decode_row, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )


def _decode_row(row: dict) -> dict:
    import tensorflow as tf

    image, mask = tf.numpy_function(
        _read_pair, [row["image_path"], row["trimap_path"]], [tf.uint8, tf.uint8], stateful=False
    )
    image.set_shape((None, None, 3))  # (H, W, 3) uint8
    mask.set_shape((None, None, 1))  # (H, W, 1) uint8, values 1..3
    keys = ("file_name", "label", "species", "head_bbox")
    return {"image": image, "segmentation_mask": mask, **{key: row[key] for key in keys}}


def _read_pair(image_path: bytes, trimap_path: bytes) -> tuple[np.ndarray, np.ndarray]:
    image, _ = _decode_image(image_path.decode())
    return image, _decode_trimap(trimap_path.decode())[..., None]


# --- the tfds and synthetic sources --------------------------------------------------------


def _load_tfds(data_dir: Path, split: str) -> tf.data.Dataset:
    import tensorflow_datasets as tfds

    _parse_split(split)  # fail fast, with our message, on a bad split string
    builder = tfds.builder(_TFDS_NAME, data_dir=data_dir)
    if not builder.is_prepared():
        try:
            builder.download_and_prepare()
        except (OSError, ImportError, tfds.download.DownloadError) as err:
            reason = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
            raise RuntimeError(
                f"TFDS could not download oxford_iiit_pet into {data_dir} ({reason}). "
                f"Without internet, use the folder source: {_HOW_TO_GET_DATA}; "
                "or use source='synthetic'."
            ) from None
    sizes = {name: builder.info.splits[name].num_examples for name in _SPLIT_FILES}
    _absolute_slices(split, sizes)  # out-of-range slices get the same message as elsewhere
    return builder.as_dataset(split=split)


def _load_synthetic(split: str) -> tf.data.Dataset:
    import tensorflow as tf

    from labutils import synthetic  # imported here: synthetic builds on this module

    ranges = {name: synthetic.scene_indices(name) for name in _SPLIT_FILES}
    slices = _absolute_slices(split, {name: len(r) for name, r in ranges.items()})
    indices = [i for name, start, stop in slices for i in ranges[name][start:stop]]
    return tf.data.Dataset.from_tensor_slices(tf.constant(indices, tf.int64)).map(
        _render_scene, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )


def _render_scene(index: tf.Tensor) -> dict:
    import tensorflow as tf

    from labutils import synthetic

    def render(i: np.int64) -> list[np.ndarray]:
        scene = synthetic.make_scene(int(i))
        keys = ("image", "segmentation_mask", "file_name", "label", "species", "head_bbox")
        return [np.asarray(scene[key]) for key in keys]

    dtypes = [tf.uint8, tf.uint8, tf.string, tf.int64, tf.int64, tf.float32]
    image, mask, file_name, label, species, head_bbox = tf.numpy_function(
        render, [index], dtypes, stateful=False
    )
    image.set_shape((None, None, 3))  # (H, W, 3) uint8
    mask.set_shape((None, None, 1))  # (H, W, 1) uint8, values 1..3
    file_name.set_shape(())
    label.set_shape(())
    species.set_shape(())
    head_bbox.set_shape((4,))
    return {"image": image, "segmentation_mask": mask, "file_name": file_name,
            "label": label, "species": species, "head_bbox": head_bbox}  # fmt: skip
