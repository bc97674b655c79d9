"""Your own photo: read any image file (or a Colab upload) as RGB, upright, at its own size."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = ["read_photo"]


def read_photo(path: str | Path) -> np.ndarray:
    """Read any photo as RGB, upright, at its own size.

    Used in lesson 06, §7 "Segment your own photo".

    Args:
        path: an image file Pillow reads (JPEG, PNG, WebP, ...), or ``"upload"`` to choose a
            file in the browser on Colab (``google.colab.files.upload``).

    Returns:
        (H, W, 3) uint8 RGB, turned as its EXIF orientation says (phone photos).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: not an image, ``"upload"`` outside Colab, or nothing uploaded.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     Image.new("L", (3, 2)).save(f"{folder}/grey.png")  # 3 wide, 2 high, grey
    ...     read_photo(f"{folder}/grey.png").shape
    (2, 3, 3)
    """
    if str(path) == "upload":
        return _upload_photo()
    path = Path(path).expanduser()
    if not path.is_file():
        where = f"relative to {Path.cwd()}" if not path.is_absolute() else "an absolute path"
        raise FileNotFoundError(f"No image file at {path}: check PHOTO_PATH ({where}).")
    return _decode_photo(path, str(path))


def _upload_photo() -> np.ndarray:
    """Ask Colab for one file and decode it."""
    if "google.colab" not in sys.modules:
        raise ValueError(
            "PHOTO_PATH = 'upload' asks Colab for a file; elsewhere set it to the path "
            "of an image file, e.g. 'my_cat.jpg'."
        )
    from google.colab import files  # only on Colab

    uploaded = files.upload()  # {file name: bytes}
    if not uploaded:
        raise ValueError("No file was uploaded: run the cell again and choose an image.")
    name, content = next(iter(uploaded.items()))
    return _decode_photo(io.BytesIO(content), name)


def _decode_photo(file: Any, name: str) -> np.ndarray:
    """Decode an image file (a path or a file object) as upright RGB, or raise ValueError."""
    try:
        with Image.open(file) as image:
            return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    except UnidentifiedImageError:
        message = f"{name} is not an image Pillow can read (JPEG, PNG, WebP, ...)."
        raise ValueError(message) from None
