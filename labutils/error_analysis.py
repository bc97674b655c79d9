"""Error analysis (lesson 06): which class is taken for which, image by image, pixel by pixel.

The confusion matrix says which class is taken for which; the histogram of per-image IoUs
finds the bad photos; an error map shows where, in one photo, the model is wrong. Its kinds of
pixel (true negative, true positive, false positive, false negative) and their colours are
also the IoU playground's (``playground_widget.plot_shifted_prediction``). Every figure function
returns its matplotlib ``Figure``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from labutils import metrics
from labutils.mask_inputs import as_label_mask
from labutils.viz import add_class_legend, as_rgb_image, overlay_mask
from labutils.vocabulary import CLASS_NAMES, NUM_CLASSES

__all__ = [
    "ERROR_COLORS",
    "ERROR_KINDS",
    "colorize_errors",
    "error_legend_handles",
    "error_map",
    "plot_confusion_matrix",
    "plot_iou_histogram",
    "plot_prediction_errors",
]

#: Kinds of pixel in an error map, as seen from one class (the pet by default), in code order
#: 0..4, with their Okabe–Ito colours: the one set of error colours of the course. ``{name}`` is
#: that class's name, ``{others}`` the other classes, e.g. "background ↔ border".
ERROR_KINDS: tuple[tuple[str, str], ...] = (
    ("correct, not {name}", "#F2F2F2"),  # true negative: light grey
    ("correct {name}", "#009E73"),  # true positive: bluish green
    ("false positive: {name} predicted", "#E69F00"),  # orange
    ("false negative: {name} missed", "#CC79A7"),  # reddish purple
    ("{others} confused", "#56B4E9"),  # sky blue: two other classes mistaken for each other
)
#: The colour of each code of an error map: TN, TP, FP, FN, others confused.
ERROR_COLORS = tuple(colour for _, colour in ERROR_KINDS)
_ERROR_PALETTE = np.round(np.array([to_rgb(c) for c in ERROR_COLORS]) * 255).astype(np.uint8)


def error_map(mask: Any, pred_mask: Any, target_class: int = 0) -> np.ndarray:
    """Sort every pixel into correct / false positive / false negative for one class.

    With more than two classes an error is not simply a false positive or a false negative:
    both are defined with respect to ``target_class`` (the pet by default), and a mistake
    between two other classes (background ↔ border) is a kind of its own. Binary masks are two
    classes: seen from class 1, the object, code 4 never occurs.

    Used in lesson 06, §6 "Image by image".

    Args:
        mask: (H, W) or (H, W, 1) true class indices.
        pred_mask: predicted class indices, same shape.
        target_class: the class the errors are seen from, ``0..NUM_CLASSES - 1``.

    Returns:
        (H, W) int64 codes, indexing :data:`ERROR_KINDS`: 0 correct and not the class, 1 correct
        and the class (TP), 2 predicted as the class but not it (FP), 3 the class but predicted
        as another (FN), 4 wrong between two other classes.

    Raises:
        ValueError: bad values or shapes, or ``target_class`` out of range.

    >>> error_map([[0, 0, 1, 2]], [[0, 1, 0, 1]])  # TP, FN, FP, background ↔ border
    array([[1, 3, 2, 4]])
    """
    truth, pred = as_label_mask(mask, "mask"), as_label_mask(pred_mask, "pred_mask")
    if truth.shape != pred.shape:
        raise ValueError(f"mask is {truth.shape} but pred_mask is {pred.shape}: expected equal.")
    if target_class not in range(NUM_CLASSES):
        raise ValueError(
            f"target_class must be 0..{NUM_CLASSES - 1} ({', '.join(CLASS_NAMES)}); "
            f"got {target_class}."
        )
    is_true, is_pred = truth == target_class, pred == target_class
    kinds = [is_true & is_pred, is_pred & ~is_true, is_true & ~is_pred, truth != pred]
    return np.select(kinds, [1, 2, 3, 4], default=0)


def colorize_errors(codes: Any) -> np.ndarray:
    """Paint an :func:`error_map` in :data:`ERROR_COLORS`.

    Used in lesson 06, §6 "Image by image" (the error panel of :func:`plot_prediction_errors`).

    Args:
        codes: (H, W) integer codes 0..4.

    Returns:
        (H, W, 3) uint8 RGB picture.

    >>> colorize_errors([[1, 4]]).tolist()  # bluish green, sky blue
    [[[0, 158, 115], [86, 180, 233]]]
    """
    return _ERROR_PALETTE[np.asarray(codes)]


def error_legend_handles(labels: Sequence[str]) -> list[Patch]:
    """One patch per kind of pixel, in :data:`ERROR_COLORS` order, named by ``labels``.

    Used in lesson 06, §6 "Image by image", and in lesson 02, §8 "Playground: move and resize a
    prediction" (its first four kinds).

    Args:
        labels: the names of the first ``len(labels)`` kinds (at most five).

    Returns:
        The legend handles.

    >>> [patch.get_label() for patch in error_legend_handles(["TN", "TP"])]
    ['TN', 'TP']
    """
    colours = ERROR_COLORS[: len(labels)]
    return [
        Patch(facecolor=c, edgecolor="grey", label=k) for k, c in zip(labels, colours, strict=True)
    ]


def _format_ious(ious: np.ndarray) -> str:
    """'pet 0.912 · background 0.950 · border –' (a dash for a class with no IoU)."""
    return " · ".join(
        f"{name} {'–' if np.isnan(v) else f'{v:.3f}'}"
        for name, v in zip(CLASS_NAMES, ious, strict=True)
    )


def plot_prediction_errors(
    image: Any, mask: Any, pred_mask: Any, title: str = "", target_class: int = 0
) -> Figure:
    """Image, true mask, predicted mask and error map of one example, scored in the title.

    Used in lesson 06, §6 "Image by image" (and by ``stepper_widget.prediction_stepper``).

    Args:
        image: (H, W, 3) RGB, uint8 or float in [0, 1].
        mask: (H, W) or (H, W, 1) true class indices.
        pred_mask: predicted class indices, same shape.
        title: put before the scores, e.g. ``"image 17"``.
        target_class: the class whose false positives and negatives the error map shows.

    Returns:
        The Figure: four axes in a row; the title holds the image's mean IoU (over the classes
        in its truth or prediction) and each class's IoU; legends for classes and errors.

    Raises:
        ValueError: bad shapes or values (see ``viz.overlay_mask`` and :func:`error_map`).

    >>> fig = plot_prediction_errors(np.zeros((1, 2, 3)), [[0, 1]], [[0, 0]], "image 7")
    >>> fig.get_suptitle()
    'image 7 · mean IoU 0.250   (pet 0.500 · background 0.000 · border –)'
    >>> plt.close(fig)
    """
    codes = error_map(mask, pred_mask, target_class)
    ious = metrics.iou_per_class(mask, pred_mask, NUM_CLASSES)  # error_map checked both
    fig, axes = plt.subplots(1, 4, figsize=(13, 4.3))
    name = CLASS_NAMES[target_class]
    panels = {
        "image": as_rgb_image(image, codes.shape),
        "true mask": overlay_mask(image, mask),
        "predicted mask": overlay_mask(image, pred_mask),
        f"errors (seen from the {name} class)": colorize_errors(codes),
    }
    for ax, (panel_title, picture) in zip(axes, panels.items(), strict=True):
        ax.imshow(picture, interpolation="nearest")
        ax.set_title(panel_title, fontsize=10)
        ax.set_xticks([]), ax.set_yticks([])
    for ax in axes[:3]:
        ax.set_frame_on(False)  # the error map keeps its frame: its pale grey meets the page
    lead = f"{title} · " if title else ""
    fig.suptitle(f"{lead}mean IoU {np.nanmean(ious):.3f}   ({_format_ious(ious)})")
    others = " ↔ ".join(n for n in CLASS_NAMES if n != name)
    kinds = [kind.format(name=name, others=others) for kind, _ in ERROR_KINDS]
    options = {"loc": "upper center", "fontsize": "small", "frameon": False}
    add_class_legend(fig, title="classes", bbox_to_anchor=(0.38, 0.2), **options)
    error_handles = error_legend_handles(kinds)
    fig.legend(
        handles=error_handles, title="errors", ncols=2, bbox_to_anchor=(0.77, 0.2), **options
    )
    fig.tight_layout(rect=(0, 0.2, 1, 1))
    return fig


def plot_confusion_matrix(cm: Any, normalize: bool = True) -> Figure:
    """Draw a confusion matrix, row-normalised by default: each row is a true class's recall.

    Taught in lesson 06, §5 "Which class is taken for which".

    Args:
        cm: (C, C) pixel counts, rows = true class, columns = predicted class
            (``metrics.confusion_matrix``), C = ``NUM_CLASSES`` in the order of ``CLASS_NAMES``.
        normalize: divide each row by its sum, so entry [i, j] is the fraction of class i's
            pixels predicted as j and the diagonal holds each class's recall.

    Returns:
        The Figure with one axes, the value written in each cell.

    Raises:
        ValueError: not a (C, C) matrix of non-negative counts.

    >>> fig = plot_confusion_matrix(np.diag([4, 1, 2]))
    >>> [text.get_text() for text in fig.axes[0].texts][:4]
    ['100.0%', '0.0%', '0.0%', '0.0%']
    >>> plt.close(fig)
    """
    counts = np.asarray(cm, dtype=np.float64)
    if counts.shape != (NUM_CLASSES, NUM_CLASSES) or counts.min() < 0:
        raise ValueError(
            f"expected a ({NUM_CLASSES}, {NUM_CLASSES}) matrix of non-negative counts; "
            f"got {counts.shape}."
        )
    rows = counts.sum(axis=1, keepdims=True)
    shown = (
        np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0) if normalize else counts
    )
    top = 1 if normalize else shown.max()
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    ax.imshow(shown, cmap="Blues", vmin=0, vmax=top)
    for (i, j), value in np.ndenumerate(shown):
        text = f"{value:.1%}" if normalize else f"{value:,.0f}"
        ax.text(j, i, text, ha="center", va="center", color="white" if value > top / 2 else "black")
    ax.set_xticks(range(NUM_CLASSES), CLASS_NAMES)
    ax.set_yticks(range(NUM_CLASSES), CLASS_NAMES)
    ax.set(xlabel="predicted class", ylabel="true class")
    ax.set_title("each row sums to 100 % (recall on the diagonal)" if normalize else "pixels")
    fig.tight_layout()
    return fig


def plot_iou_histogram(ious: Sequence[float], bins: int = 20) -> Figure:
    """Histogram of per-image IoUs in [0, 1], with their mean and median marked.

    Used in lesson 06, §6 "Image by image".

    Args:
        ious: one IoU per image (e.g. ``metrics.mean_iou_per_image``); NaN entries are skipped.
        bins: number of bins between 0 and 1.

    Returns:
        The Figure with one axes.

    Raises:
        ValueError: no finite value, or values outside [0, 1].

    >>> fig = plot_iou_histogram([0.2, 0.5, 0.9, float("nan")])
    >>> [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    ['mean 0.533', 'median 0.500']
    >>> plt.close(fig)
    """
    values = np.asarray(ious, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0 or values.min() < 0 or values.max() > 1:
        raise ValueError(f"need IoUs in [0, 1], at least one finite; got {np.asarray(ious)[:5]}.")
    fig, ax = plt.subplots(figsize=(6, 3.4))
    ax.hist(values, bins=bins, range=(0, 1), color="grey", edgecolor="black")
    for stat, style in ((np.mean, "-"), (np.median, "--")):
        value = float(stat(values))
        ax.axvline(value, color="black", linestyle=style, label=f"{stat.__name__} {value:.3f}")
    ax.set(title=f"Mean IoU of each image ({values.size} images)", xlabel="IoU", ylabel="images")
    ax.legend(loc="upper left")
    fig.tight_layout()
    return fig
