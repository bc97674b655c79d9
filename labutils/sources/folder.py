"""The official Oxford-IIIT Pet folder: check its layout, read and decode it, as TFDS would.

The folder is the unpacked ``images.tar.gz`` + ``annotations.tar.gz``. Every image and trimap is
checked once; images in other formats or pixel modes are converted, unusable pairs skipped, and
one warning lists both. Reached through :func:`labutils.data.load_pets`, taught in lesson 03,
§2 "Loading the data, and splitting it".
"""

from __future__ import annotations

import functools
import hashlib
import os
import warnings
import xml.etree.ElementTree as ET
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from PIL import Image, ImageChops

from labutils.splits import absolute_slices, parse_split

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["HOW_TO_GET_DATA", "NO_HEAD_BBOX", "check_folder", "load_folder"]

#: ``head_bbox`` of an example without a head box (TFDS uses the same placeholder).
NO_HEAD_BBOX = (0.0, 0.0, 0.0, 0.0)
#: How to get the real photos, for the messages of every source.
HOW_TO_GET_DATA = (
    "set SEGLAB_DATA=/path/to/oxford-iiit-pet, or extract the official images.tar.gz and "
    "annotations.tar.gz (https://www.robots.ox.ac.uk/~vgg/data/pets/) into "
    "data/oxford-iiit-pet/ (see README.md)"
)
_SPLIT_FILES = {"train": "trainval.txt", "test": "test.txt"}
_LAYOUT = ("images", "annotations/trimaps", "annotations/list.txt") + tuple(
    f"annotations/{file}" for file in _SPLIT_FILES.values()
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


class _Record(NamedTuple):
    image_path: str
    trimap_path: str
    file_name: str
    label: int
    species: int
    head_bbox: tuple[float, float, float, float]


class _Skip(Exception):
    """An image or trimap that must not be used; the message says why."""


def check_folder(path: Path, origin: str) -> int:
    """Check that ``path`` has the official layout; return the number of ``.jpg`` images.

    Used by :func:`labutils.data.find_source` (lesson 03, §2 "Loading the data, and splitting
    it").

    Args:
        path: the folder that should hold ``images/`` and ``annotations/``.
        origin: where the path came from (``"SEGLAB_DATA"``, ``"source"``), for the message.

    Raises:
        FileNotFoundError: naming what is missing and how to get the data.

    >>> check_folder(Path("/nowhere"), "source")
    Traceback (most recent call last):
    FileNotFoundError: source: /nowhere is not an Oxford-IIIT Pet folder (there is no such ...
    """
    missing = [part for part in _LAYOUT if not (path / part).exists()]
    if not path.is_dir() or missing:
        found = "there is no such folder" if not path.is_dir() else f"missing {', '.join(missing)}"
        raise FileNotFoundError(
            f"{origin}: {path} is not an Oxford-IIIT Pet folder ({found}). Expected the official "
            f"layout: {', '.join(_LAYOUT)}.{_layout_hint(path)} To fix: {HOW_TO_GET_DATA}; "
            "or use SEGLAB_DATA=synthetic."
        )
    return sum(1 for entry in os.scandir(path / "images") if entry.name.endswith(".jpg"))


def _layout_hint(path: Path) -> str:
    if (path / "oxford-iiit-pet").is_dir():
        return f" Did you mean {path / 'oxford-iiit-pet'}?"
    if path.name in ("images", "annotations", "trimaps"):
        return f" Point to the folder that holds images/ and annotations/, e.g. {path.parent}."
    return ""


def load_folder(root: Path, split: str) -> tf.data.Dataset:
    """Read ``split`` of the folder at ``root`` as TFDS-style examples; warn once about faults.

    The folder source of :func:`labutils.data.load_pets`, taught in lesson 03, §2 "Loading
    the data, and splitting it"; ``split`` and the returned elements are as documented there.

    Raises:
        ValueError: a bad split string (before any file is read), or a slice out of range.
    """
    parts = parse_split(split)  # fail fast on a bad split string, before reading any file
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
    slices = absolute_slices(split, {name: len(rows) for name, rows in records.items()})
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
