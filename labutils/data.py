"""The three sources of Oxford-IIIT Pet examples behind one function, :func:`load_pets`.

Every source yields the elements of TFDS ``oxford_iiit_pet`` 4.0.0:

- ``image``: uint8 (H, W, 3), RGB.
- ``segmentation_mask``: uint8 (H, W, 1), the trimap: 1 = pet, 2 = background, 3 = border.
  After ``mask - 1``: 0 = pet, 1 = background, 2 = border (``vocabulary.CLASS_NAMES``).
- ``file_name``: string, e.g. ``"Abyssinian_100.jpg"``.
- ``label``: int64, the breed, 0..36 (``vocabulary.BREED_NAMES``).
- ``species``: int64, 0 = cat, 1 = dog (``vocabulary.SPECIES_NAMES``).
- ``head_bbox``: float32 (4,), ``[ymin, xmin, ymax, xmax]`` in 0..1 of the image size;
  all zeros (TFDS's placeholder, ``folder.NO_HEAD_BBOX``) where the dataset has no head box
  (e.g. the test split).

The sources: ``"folder"`` (the unpacked official ``images.tar.gz`` + ``annotations.tar.gz``,
read by :mod:`labutils.sources.folder`), ``"tfds"`` (``tensorflow_datasets``) and ``"synthetic"``
(generated scenes, not real photos: :mod:`labutils.sources.synthetic`). Taught in lesson 03, §2
"Loading the data, and splitting it".
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from labutils import env
from labutils.sources import folder
from labutils.splits import SPLIT_NAMES, absolute_slices, parse_split

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = ["DataSource", "find_source", "load_pets"]

_TFDS_NAME = "oxford_iiit_pet:4.*.*"


@dataclass(frozen=True)
class DataSource:
    """Where :func:`load_pets` reads from.

    Taught in lesson 03, §2 "Loading the data, and splitting it"; every lesson's first code
    cell makes one with :func:`find_source`.

    Attributes:
        kind: ``"folder"``, ``"tfds"`` or ``"synthetic"``.
        path: the dataset folder (folder), the TFDS data directory (tfds), or None (synthetic).
        description: one line for people, e.g. ``"folder /x/oxford-iiit-pet: real ... photos"``.

    >>> DataSource("synthetic", None, "generated scenes").kind
    'synthetic'
    """

    kind: str
    path: Path | None
    description: str


def find_source(source: str = "auto", verbose: bool = True) -> DataSource:
    """Decide where the pet examples come from, and say so.

    With ``"auto"``: ``$SEGLAB_DATA`` if set (a folder path, or the word ``synthetic`` or
    ``tfds``); else ``data/oxford-iiit-pet/`` if present; else TFDS when already prepared or
    on Colab (where it can download); else the synthetic scenes. Used in every lesson's first
    code cell; taught in lesson 03, §2 "Loading the data, and splitting it".

    Args:
        source: ``"auto"``, ``"synthetic"``, ``"tfds"``, ``"folder"`` (``data/oxford-iiit-pet``),
            ``"folder:/path"`` or a folder path. A relative path is looked up from the current
            folder, then from the checkout's root.
        verbose: print ``Data source: <description>``.

    Returns:
        The chosen :class:`DataSource`.

    Raises:
        FileNotFoundError: the folder is missing or not in the official layout.

    >>> find_source("synthetic")
    Data source: synthetic: generated pet-like scenes, NOT real photos (600 train, 200 test). ...
    DataSource(kind='synthetic', path=None, ...)
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

    Taught in lesson 03, §2 "Loading the data, and splitting it"; used by every lesson.

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

    >>> load_pets("validation", "synthetic")
    Traceback (most recent call last):
    ValueError: Unrecognised split 'validation'. Valid forms: 'train', 'test', ...
    """
    if not isinstance(source, DataSource):
        source = find_source(source, verbose=False)
    if source.kind == "folder":
        return folder.load_folder(source.path, split)
    if source.kind == "tfds":
        return _load_tfds(source.path, split)
    if source.kind == "synthetic":
        # imported when chosen: only this source needs OpenCV
        from labutils.sources import synthetic

        return synthetic.load_synthetic(split)
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
    path = env.data_dir() / "oxford-iiit-pet"
    if path.is_dir():
        return _folder_source(path, origin="data/oxford-iiit-pet")
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
    count = folder.check_folder(path, origin)
    return DataSource(
        "folder", path, f"folder {path}: real Oxford-IIIT Pet photos ({count:,} images)"
    )


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
    from labutils.sources import synthetic  # imported when chosen: only this source needs OpenCV

    sizes = ", ".join(f"{len(synthetic.scene_indices(s))} {s}" for s in SPLIT_NAMES)
    return DataSource(
        "synthetic",
        None,
        f"synthetic: generated pet-like scenes, NOT real photos ({sizes}). "
        f"For the real photos: {folder.HOW_TO_GET_DATA}.",
    )


# --- the tfds source -----------------------------------------------------------------------


def _load_tfds(data_dir: Path, split: str) -> tf.data.Dataset:
    import tensorflow_datasets as tfds

    parse_split(split)  # fail fast, with our message, on a bad split string
    builder = tfds.builder(_TFDS_NAME, data_dir=data_dir)
    if not builder.is_prepared():
        try:
            builder.download_and_prepare()
        except (OSError, ImportError, tfds.download.DownloadError) as err:
            reason = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
            raise RuntimeError(
                f"TFDS could not download oxford_iiit_pet into {data_dir} ({reason}). "
                f"Without internet, use the folder source: {folder.HOW_TO_GET_DATA}; "
                "or use source='synthetic'."
            ) from None
    sizes = {name: builder.info.splits[name].num_examples for name in SPLIT_NAMES}
    absolute_slices(split, sizes)  # out-of-range slices get the same message as elsewhere
    return builder.as_dataset(split=split)
