"""The numbers of ``python -m labutils train | evaluate``: argparse types with one-line errors.

Each parses the text of one option, or raises ``argparse.ArgumentTypeError``, which argparse
prints as one usage line saying what was expected (exit code 2):

>>> positive_int("16"), positive_float("2e-3"), minutes("0"), fraction("0.5")
(16, 0.002, 0.0, 0.5)
>>> stages("0.5:0.6,0.75:0.85"), stages("none")
(((0.5, 0.6), (0.75, 0.85)), ())
>>> fraction("2")
Traceback (most recent call last):
argparse.ArgumentTypeError: expected a fraction in (0, 1], got 2
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

__all__ = ["fraction", "minutes", "positive_float", "positive_int", "stages", "stages_text"]


def _number(kind: type, is_valid: Callable[[float], bool], expected: str) -> Callable:
    """An argparse type: ``kind(text)`` if ``is_valid`` of it, else a one-line usage error."""

    def parse(text: str) -> float:
        value = kind(text)
        if not is_valid(value) or value == float("inf"):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text}")
        return value

    return parse


positive_int = _number(int, lambda v: v >= 1, "a positive integer")
positive_float = _number(float, lambda v: v > 0, "a positive number")
minutes = _number(float, lambda v: v >= 0, "minutes >= 0 (0: no limit)")
fraction = _number(float, lambda v: 0 < v <= 1, "a fraction in (0, 1]")


def stages(text: str) -> tuple[tuple[float, float], ...]:
    """``SCALE:UNTIL,...`` (e.g. ``0.5:0.6,0.75:0.85``) as ``TrainConfig.stages``; ``none``: ()."""
    if text.strip().lower() == "none":
        return ()
    try:
        pairs = tuple(tuple(map(float, part.split(":"))) for part in text.split(","))
    except ValueError:
        pairs = ((),)
    ends = [0.0] + [pair[-1] for pair in pairs if pair]
    if any(len(pair) != 2 or not 0 < pair[0] <= 1 for pair in pairs) or any(
        not a < b <= 1 for a, b in zip(ends, ends[1:], strict=False)
    ):
        raise argparse.ArgumentTypeError(
            f"expected SCALE:UNTIL pairs such as 0.5:0.6,0.75:0.85 (scales in (0, 1], ends "
            f"increasing in (0, 1]) or 'none', got {text}"
        )
    return pairs


def stages_text(pairs: tuple[tuple[float, float], ...]) -> str:
    """The ``SCALE:UNTIL,...`` text of ``pairs``, which :func:`stages` reads back; ``none``: ()."""
    return ",".join(f"{scale:g}:{until:g}" for scale, until in pairs) or "none"
