"""Charts of the dataset and of training: what the data holds, and how the model learnt it.

Lesson 03 charts the dataset (class shares, image sizes, breeds, border thickness), lesson 05
the training curves. Classes and species keep their colours from ``labutils.vocabulary``.
Every function returns its matplotlib ``Figure``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from labutils.vocabulary import (
    CLASS_COLORS,
    CLASS_NAMES,
    NUM_CLASSES,
    SPECIES_COLORS,
    SPECIES_NAMES,
)

__all__ = [
    "plot_border_thickness",
    "plot_class_shares",
    "plot_history",
    "plot_image_sizes",
    "plot_species_breeds",
]

_TRAIN_COLOR, _VAL_COLOR = "#0072B2", "#E69F00"  # Okabe–Ito blue and orange
_BORDER_COLOR = np.divide(CLASS_COLORS[CLASS_NAMES.index("border")], 255)


def _history_dict(history: Any) -> dict[str, list[float]]:
    """Return the per-epoch logs of a Keras ``History`` or of a plain dict."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping):
        raise ValueError(f"expected a keras History or a dict of lists; got {type(history)}.")
    return {str(k): list(v) for k, v in logs.items()}


def plot_history(history: Any) -> Figure:
    """Training curves: one panel per loss / accuracy / IoU metric, train and validation.

    Taught in lesson 05, §8 "Reading the curves".

    Args:
        history: what ``model.fit`` returned, or its ``.history`` dict
            (``{"loss": [...], "val_loss": [...], "accuracy": [...], ...}``).

    Returns:
        The Figure, one axes per metric found (keys containing "loss", "accuracy" or "iou"),
        each with a "train" line and, when ``val_<metric>`` exists, a "validation" line.

    Raises:
        ValueError: not a history, or no loss/accuracy/IoU entry in it.

    >>> fig = plot_history({"loss": [1.0, 0.5], "val_loss": [1.2, 0.8], "learning_rate": [1]})
    >>> [ax.get_title() for ax in fig.axes], len(fig.axes[0].get_lines())
    (['loss'], 2)
    >>> plt.close(fig)
    """
    logs = _history_dict(history)
    wanted = ("loss", "accuracy", "iou", "io_u")
    names = [k for k in logs if not k.startswith("val_") and any(w in k.lower() for w in wanted)]
    if not names:
        raise ValueError(f"no loss, accuracy or IoU in the history; its keys are {list(logs)}.")
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.2), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        for key, label, color in (
            (name, "train", _TRAIN_COLOR),
            (f"val_{name}", "validation", _VAL_COLOR),
        ):
            if key in logs:
                epochs = np.arange(1, len(logs[key]) + 1)
                ax.plot(epochs, logs[key], marker=".", color=color, label=label)
        ax.set(title=name, xlabel="epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig


def plot_class_shares(
    pixel_counts: Sequence[int], title: str = "Share of pixels per class"
) -> Figure:
    """Bar chart of the share of pixels in each class, in per cent, with the value on each bar.

    Taught in lesson 03, §4 "What is in the data" ("Classes: how many pixels each").

    Args:
        pixel_counts: number of pixels of each class, in the order of ``CLASS_NAMES``.
        title: the chart's title.

    Returns:
        The Figure with one axes and one bar per class, in the class colours.

    Raises:
        ValueError: not one non-negative count per class, or all counts zero.

    >>> fig = plot_class_shares([30, 60, 10])
    >>> [round(bar.get_height()) for bar in fig.axes[0].patches]
    [30, 60, 10]
    >>> plt.close(fig)
    """
    counts = np.asarray(pixel_counts, dtype=np.float64)
    if counts.shape != (NUM_CLASSES,) or counts.min() < 0 or counts.sum() == 0:
        raise ValueError(
            f"expected {NUM_CLASSES} non-negative pixel counts {CLASS_NAMES}, not all 0; "
            f"got {pixel_counts}."
        )
    shares = 100 * counts / counts.sum()
    fig, ax = plt.subplots(figsize=(5, 3.2))
    bars = ax.bar(CLASS_NAMES, shares, color=np.divide(CLASS_COLORS, 255), edgecolor="black")
    ax.bar_label(bars, fmt="%.1f %%")
    ax.set(ylabel="% of all pixels", title=title, ylim=(0, max(shares) * 1.15))
    fig.tight_layout()
    return fig


def plot_image_sizes(heights: Sequence[int], widths: Sequence[int], bins: int = 30) -> Figure:
    """Histograms of image heights and widths (left) and of aspect ratios width / height (right).

    Taught in lesson 03, §4 "What is in the data" ("Image sizes and shapes").

    Args:
        heights: height in pixels of each image.
        widths: width in pixels of each image, same length.
        bins: number of histogram bins.

    Returns:
        The Figure with two axes.

    Raises:
        ValueError: empty or different lengths, or sizes that are not positive.

    >>> fig = plot_image_sizes([100, 300], [200, 300], bins=2)
    >>> fig.axes[0].get_title(), int(sum(bar.get_height() for bar in fig.axes[1].patches))
    ('Image sizes (2 images)', 2)
    >>> plt.close(fig)
    """
    heights, widths = np.asarray(heights, dtype=np.float64), np.asarray(widths, dtype=np.float64)
    if heights.shape != widths.shape or heights.ndim != 1 or heights.size == 0:
        raise ValueError(
            f"need equally many heights and widths; got {heights.shape}, {widths.shape}."
        )
    if min(heights.min(), widths.min()) <= 0:
        raise ValueError("image sizes must be positive numbers of pixels.")
    fig, (ax_size, ax_ratio) = plt.subplots(1, 2, figsize=(10, 3.4))
    ax_size.hist(
        [heights, widths], bins=bins, label=["height", "width"], color=[_TRAIN_COLOR, _VAL_COLOR]
    )
    ax_size.set(title=f"Image sizes ({heights.size} images)", xlabel="pixels", ylabel="images")
    ax_size.legend()
    ax_ratio.hist(widths / heights, bins=bins, color="grey", edgecolor="black")
    ax_ratio.axvline(1, color="black", linestyle="--", label="square")
    ax_ratio.set(title="Aspect ratio", xlabel="width / height", ylabel="images")
    ax_ratio.legend()
    fig.tight_layout()
    return fig


def plot_species_breeds(
    labels: Sequence[int], species: Sequence[int], breed_names: Sequence[str]
) -> Figure:
    """Counts of cats vs dogs (left) and of each breed, coloured by species (right).

    Taught in lesson 03, §4 "What is in the data" ("Cats, dogs and breeds").

    Args:
        labels: breed index of each image, 0..len(breed_names)-1.
        species: species of each image, 0 = cat, 1 = dog.
        breed_names: the name of each breed index.

    Returns:
        The Figure with two axes: a 2-bar chart and a horizontal bar per breed.

    Raises:
        ValueError: lengths differ, or indices out of range.

    >>> fig = plot_species_breeds([0, 0, 1], [0, 0, 1], ["Persian", "pug"])
    >>> [int(bar.get_height()) for bar in fig.axes[0].patches]  # 2 cats, 1 dog
    [2, 1]
    >>> plt.close(fig)
    """
    labels, species = np.asarray(labels), np.asarray(species)
    if labels.shape != species.shape or labels.ndim != 1 or labels.size == 0:
        raise ValueError(
            f"need one label and one species per image; got {labels.shape}, {species.shape}."
        )
    n_species = len(SPECIES_NAMES)
    bad_species = not set(np.unique(species).tolist()) <= set(range(n_species))
    if labels.min() < 0 or labels.max() >= len(breed_names) or bad_species:
        raise ValueError(
            f"labels must be 0..{len(breed_names) - 1} and species 0 (cat) or 1 (dog)."
        )
    breed_species = np.zeros(len(breed_names), dtype=int)
    breed_species[labels] = species  # each breed belongs to one species
    fig, (ax_species, ax_breeds) = plt.subplots(
        1, 2, figsize=(11, 0.17 * len(breed_names) + 1.5), width_ratios=(1, 2.5)
    )
    counts = np.bincount(species, minlength=n_species)
    ax_species.bar_label(ax_species.bar(SPECIES_NAMES, counts, color=SPECIES_COLORS))
    ax_species.set(title="Species", ylabel="images")
    counts = np.bincount(labels, minlength=len(breed_names))
    ax_breeds.barh(breed_names, counts, color=np.array(SPECIES_COLORS)[breed_species])
    ax_breeds.invert_yaxis()
    ax_breeds.tick_params(axis="y", labelsize=7)
    ax_breeds.set(title="Breeds", xlabel="images")
    handles = [Patch(color=c, label=n) for n, c in zip(SPECIES_NAMES, SPECIES_COLORS, strict=True)]
    ax_breeds.legend(handles=handles, loc="lower right")
    fig.tight_layout()
    return fig


def plot_border_thickness(
    thicknesses: Sequence[float], bins: int = 30, unit: str = "pixels"
) -> Figure:
    """Histogram of the border band's thickness per image, with its median marked.

    Taught in lesson 03, §4 "What is in the data" ("How thick is the border?").

    Args:
        thicknesses: one thickness per image (NaN entries, e.g. images without a border, are
            left out and counted in the title).
        bins: number of histogram bins.
        unit: what the thicknesses measure, the x-axis label (e.g. "pixels at 128 × 128").

    Returns:
        The Figure with one axes.

    Raises:
        ValueError: no finite value, or a negative one.

    >>> fig = plot_border_thickness([2.0, 3.0, 10.0, float("nan")])
    >>> fig.axes[0].get_title(), fig.axes[0].get_legend().get_texts()[0].get_text()
    ('Border thickness (3 images, 1 without border)', 'median 3.0')
    >>> plt.close(fig)
    """
    values = np.asarray(thicknesses, dtype=np.float64)
    finite = values[np.isfinite(values)]
    if finite.size == 0 or finite.min() < 0:
        raise ValueError(f"need non-negative thicknesses, at least one finite; got {values[:5]}.")
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.hist(finite, bins=bins, color=_BORDER_COLOR, edgecolor="black")
    median = float(np.median(finite))
    ax.axvline(median, color="black", linestyle="--", label=f"median {median:.1f}")
    skipped = f", {values.size - finite.size} without border" if finite.size < values.size else ""
    ax.set(title=f"Border thickness ({finite.size} images{skipped})", xlabel=unit, ylabel="images")
    ax.legend()
    fig.tight_layout()
    return fig
