"""The course's train / validation / test protocol, and split strings read as TFDS reads them.

Taught in lesson 03, §2 "Loading the data, and splitting it" and lesson 05, §1 "Three sets of
photos, three jobs". It imports only the standard library, so the command line can read the
protocol without starting TensorFlow.

>>> TRAIN_SPLIT, VAL_SPLIT, TEST_SPLIT
('train[:85%]', 'train[85%:]', 'test')
>>> absolute_slices(VAL_SPLIT, {"train": 3680, "test": 3669})
[('train', 3128, 3680)]
"""

from __future__ import annotations

import re

__all__ = [
    "SPLIT_NAMES",
    "TEST_SPLIT",
    "TRAIN_SPLIT",
    "VAL_SPLIT",
    "absolute_slices",
    "parse_split",
]

#: The course's protocol, one definition for lessons, command line and benchmark. The model
#: learns on TRAIN_SPLIT; VAL_SPLIT (the last 15 % of the official training photos, mixed
#: across breeds by the hash order of the names) chooses the epoch, early stopping and every
#: setting; TEST_SPLIT (the official test photos) is scored once, by the model validation chose.
TRAIN_SPLIT = "train[:85%]"
VAL_SPLIT = "train[85%:]"
TEST_SPLIT = "test"
#: The official splits that every source serves: trainval.txt ("train") and test.txt ("test").
SPLIT_NAMES = ("train", "test")

_VALID_SPLITS = (
    "'train', 'test', 'train[:100]', 'test[10:20]', 'train[:80%]', 'train[80%:]', "
    "'train+test[:50%]' (TFDS slicing, https://www.tensorflow.org/datasets/splits)"
)
_PART_RE = re.compile(r"(?P<name>\w+)(?:\[(?P<start>[^\[\]:]*):(?P<stop>[^\[\]:]*)\])?")
_BOUND_RE = re.compile(r"-?\d+(?:\.\d*)?%|-?\d+")  # fractions only as percentages


def parse_split(split: str) -> list[tuple[str, str | None, str | None]]:
    """Split a split string into ``(name, start, stop)`` parts, the bounds still as text.

    Used by ``labutils.data`` and ``labutils.sources.folder`` too.

    Raises:
        ValueError: a split in none of the valid forms; the message lists them.

    >>> parse_split("train+test[:80%]")
    [('train', None, None), ('test', '', '80%')]
    >>> parse_split("validation")
    Traceback (most recent call last):
    ValueError: Unrecognised split 'validation'. Valid forms: 'train', 'test', ...
    """
    parts = []
    for part in re.split(r"\s*\+\s*", str(split).strip()):
        match = _PART_RE.fullmatch(part)
        bounds = [b for b in (match["start"], match["stop"]) if b] if match else []
        has_slice = match is not None and match["start"] is not None
        if (
            match is None
            or match["name"] not in SPLIT_NAMES
            or not all(_BOUND_RE.fullmatch(b) for b in bounds)
            or (has_slice and not bounds)
        ):
            raise ValueError(f"Unrecognised split {split!r}. Valid forms: {_VALID_SPLITS}.")
        parts.append((match["name"], match["start"], match["stop"]))
    return parts


def absolute_slices(split: str, sizes: dict[str, int]) -> list[tuple[str, int, int]]:
    """Turn a split string into ``(name, start, stop)`` index ranges, as TFDS does.

    Used by ``labutils.data``, ``labutils.sources.folder``, ``labutils.sources.synthetic`` and
    ``tests/test_data.py`` too.

    Percent bounds round to the closest integer (``int(round(pct * n / 100))``); negative
    bounds count from the end; a bound beyond the split's size is an error.

    Args:
        split: e.g. ``"train[:85%]"`` or ``"train+test[-10:]"``.
        sizes: the number of examples of each split named in ``split``.

    Returns:
        One ``(name, start, stop)`` per part, with ``0 <= start`` and ``stop <= sizes[name]``.

    Raises:
        ValueError: a split in none of the valid forms, or a bound beyond the split's size.

    >>> absolute_slices("train[:85%]", {"train": 763, "test": 342})
    [('train', 0, 649)]
    >>> absolute_slices("train[:3]+test[-10:]", {"train": 763, "test": 342})
    [('train', 0, 3), ('test', 332, 342)]
    >>> absolute_slices("test[:500]", {"test": 342})
    Traceback (most recent call last):
    ValueError: Split 'test[:500]': [:500] needs 500 examples, but 'test' has 342 here. ...
    """
    slices = []
    for name, start, stop in parse_split(split):
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
