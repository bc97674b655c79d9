"""Interactive widgets for the lessons: thin ipywidgets wrappers over tested pure functions.

Each widget has a pure function that computes what it shows and a figure function that draws
it; the widget only connects sliders to them. A notebook also calls both functions once
directly, so a headless run (CI, a static render) shows a result too.

* IoU playground (lesson 02): move and resize a predicted mask over the true one and watch
  IoU, Dice and pixel accuracy change.
* Prediction stepper (lesson 06): step through a model's predictions, optionally worst first,
  each shown as image, truth, prediction and error map with its mean IoU
  (``viz.plot_prediction_errors``).
"""

from __future__ import annotations

import io
from typing import Any

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from labutils import metrics, viz
from labutils.data import NUM_CLASSES

__all__ = [
    "describe_step",
    "figure_to_png",
    "iou_playground",
    "order_by_iou",
    "plot_shifted_prediction",
    "prediction_stepper",
    "score_shifted_prediction",
]

# ---------------------------------------------------------------------------------------------
# IoU playground (lesson 02)
# ---------------------------------------------------------------------------------------------

#: Okabe–Ito colours (readable with colour blindness) of the four kinds of pixel.
_OVERLAP_COLORS = {
    "neither (true negative)": "#F2F2F2",
    "both (intersection, TP)": "#009E73",
    "prediction only (FP)": "#E69F00",
    "truth only (missed, FN)": "#CC79A7",
}


def _check_binary_mask(mask: Any) -> np.ndarray:
    """Return ``mask`` as an (H, W) bool array with at least one object pixel."""
    mask = np.asarray(mask)
    if mask.ndim == 3 and mask.shape[-1] == 1:
        mask = mask[..., 0]
    if mask.ndim != 2:
        raise ValueError(f"truth_mask has shape {mask.shape}: expected an (H, W) binary mask.")
    if not np.isin(mask, (0, 1)).all():
        raise ValueError(
            f"truth_mask holds values {np.unique(mask)[:6].tolist()}: expected a binary mask "
            "(bool, or 0 = background and 1 = object); for a class mask pass mask == k."
        )
    if not mask.any():
        raise ValueError("truth_mask has no object pixels: expected at least one pixel set.")
    return mask.astype(bool)


def score_shifted_prediction(
    truth_mask: Any, dx: float = 0, dy: float = 0, scale: float = 1.0
) -> dict[str, Any]:
    """Make a prediction by moving and resizing the true mask, and score it.

    The prediction is ``truth_mask`` scaled by ``scale`` about the object's centre, then
    shifted by ``(dx, dy)`` pixels (nearest-neighbour sampling; what leaves the image is lost).

    Args:
        truth_mask: (H, W) or (H, W, 1) binary mask (bool or 0/1) with at least one object pixel.
        dx: shift to the right in pixels (negative: to the left).
        dy: shift downwards in pixels (image rows grow downwards; negative: up).
        scale: size factor, > 0 (1: same size, 2: twice as wide and tall).

    Returns:
        ``{"pred_mask": (H, W) bool, "iou": float, "dice": float, "accuracy": float}``: the
        object's IoU and Dice, and the pixel accuracy over both classes, all in [0, 1].

    Raises:
        ValueError: the mask is not a non-empty 2-D binary mask, or scale <= 0.
    """
    truth = _check_binary_mask(truth_mask)
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got {scale}: 1 keeps the size, 0.5 halves it.")
    rows, cols = np.indices(truth.shape)  # each (H, W)
    centre_row, centre_col = np.argwhere(truth).mean(axis=0)
    src_rows = np.rint(centre_row + (rows - dy - centre_row) / scale).astype(np.int64)
    src_cols = np.rint(centre_col + (cols - dx - centre_col) / scale).astype(np.int64)
    inside = (src_rows >= 0) & (src_rows < truth.shape[0]) & (src_cols >= 0)
    inside &= src_cols < truth.shape[1]
    pred_mask = np.zeros_like(truth)
    pred_mask[inside] = truth[src_rows[inside], src_cols[inside]]
    return {
        "pred_mask": pred_mask,
        "iou": float(metrics.iou_per_class(truth, pred_mask, 2)[1]),
        "dice": float(metrics.dice_per_class(truth, pred_mask, 2)[1]),
        "accuracy": metrics.pixel_accuracy(truth, pred_mask),
    }


def plot_shifted_prediction(truth_mask: Any, scores: dict[str, Any]) -> Figure:
    """Draw where a prediction and the truth agree, with its scores in the title.

    Args:
        truth_mask: the (H, W) binary mask given to :func:`score_shifted_prediction`.
        scores: what :func:`score_shifted_prediction` returned for it.

    Returns:
        The figure: one panel colouring each pixel as true negative, intersection (TP),
        prediction only (FP) or truth only (FN), with a legend.
    """
    truth = _check_binary_mask(truth_mask)
    pred = np.asarray(scores["pred_mask"], dtype=bool)
    kind = np.select([truth & pred, pred, truth], [1, 2, 3], default=0)  # (H, W), 0..3
    palette = np.array([to_rgb(c) for c in _OVERLAP_COLORS.values()])
    fig, ax = plt.subplots(figsize=(4.4, 4.9))
    ax.imshow(palette[kind], interpolation="nearest")
    ax.set_title(
        f"IoU {scores['iou']:.3f} · Dice {scores['dice']:.3f} · accuracy {scores['accuracy']:.3f}"
    )
    ax.set_axis_off()
    handles = [Patch(facecolor=c, edgecolor="grey", label=k) for k, c in _OVERLAP_COLORS.items()]
    fig.legend(handles=handles, loc="lower center", ncol=2, frameon=False, fontsize="small")
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.13, top=0.93)
    return fig


def iou_playground(truth_mask: Any) -> ipywidgets.interactive:
    """Sliders that move (dx, dy) and resize (scale) a predicted mask over ``truth_mask``.

    Each change redraws :func:`plot_shifted_prediction`; the widget's ``result`` holds the
    latest :func:`score_shifted_prediction` dict. Display it as a notebook cell's last line.

    Args:
        truth_mask: (H, W) binary mask with at least one object pixel.

    Returns:
        An ``ipywidgets.interactive`` with three sliders and the figure below them.
    """
    truth = _check_binary_mask(truth_mask)
    height, width = truth.shape

    def show(dx: int, dy: int, scale: float) -> dict[str, Any]:
        scores = score_shifted_prediction(truth, dx, dy, scale)
        plot_shifted_prediction(truth, scores)
        return scores

    options = {"continuous_update": False}  # redraw when the slider is released
    return ipywidgets.interactive(
        show,
        dx=ipywidgets.IntSlider(
            value=0, min=-width // 2, max=width // 2, description="dx (right)", **options
        ),
        dy=ipywidgets.IntSlider(
            value=0, min=-height // 2, max=height // 2, description="dy (down)", **options
        ),
        scale=ipywidgets.FloatSlider(
            value=1.0, min=0.25, max=2.0, step=0.05, description="scale", **options
        ),
    )


# ---------------------------------------------------------------------------------------------
# Prediction stepper (lesson 06)
# ---------------------------------------------------------------------------------------------


def order_by_iou(ious: Any, worst_first: bool = False) -> np.ndarray:
    """The order in which to show the images: as given, or from the lowest IoU up.

    Args:
        ious: (N,) one score per image, e.g. ``metrics.mean_iou_per_image``.
        worst_first: sort by increasing IoU (ties keep their original order; NaN goes last).

    Returns:
        (N,) int64 image indices: ``order[k]`` is the image shown at step k.

    Raises:
        ValueError: ``ious`` is not a non-empty 1-D sequence.
    """
    ious = np.asarray(ious, dtype=np.float64)
    if ious.ndim != 1 or ious.size == 0:
        raise ValueError(f"ious has shape {ious.shape}: expected one IoU per image, (N,), N >= 1.")
    if not worst_first:
        return np.arange(ious.size, dtype=np.int64)
    return np.argsort(ious, kind="stable").astype(np.int64)


def describe_step(position: int, order: Any, ious: Any, worst_first: bool = False) -> str:
    """The stepper's caption: which image is shown, where it ranks, and its mean IoU.

    Args:
        position: the step, 0..N-1.
        order: (N,) image indices from :func:`order_by_iou`.
        ious: (N,) per-image IoUs, indexed by image.
        worst_first: whether ``order`` runs from the worst image up (said in the caption).

    Returns:
        An HTML line, e.g. ``"<b>image 17</b> · 1 of 68, worst first · mean IoU <b>0.412</b>"``.
    """
    index = int(order[position])
    ranking = ", worst first" if worst_first else ""
    return (
        f"<b>image {index}</b> · {position + 1} of {len(order)}{ranking} · "
        f"mean IoU <b>{float(ious[index]):.3f}</b>"
    )


def figure_to_png(fig: Figure, dpi: int = 80) -> bytes:
    """Render a figure to PNG bytes (for an ``ipywidgets.Image``) and close it.

    Args:
        fig: a matplotlib figure.
        dpi: resolution of the PNG.

    Returns:
        The PNG file's bytes.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return buffer.getvalue()


def prediction_stepper(
    images: Any, masks: Any, pred_masks: Any, worst_first: bool = False, target_class: int = 0
) -> ipywidgets.VBox:
    """Step through predictions: slider, play, previous / next buttons and a worst-first box.

    Each step shows :func:`labutils.viz.plot_prediction_errors` of one image (as a PNG in an
    ``ipywidgets.Image`` with CSS class ``seglab-view``) under a caption from
    :func:`describe_step` (an ``ipywidgets.HTML`` with CSS class ``seglab-iou``).

    Args:
        images: (N, H, W, 3) RGB, uint8 or float in [0, 1].
        masks: (N, H, W, 1) or (N, H, W) true class indices 0..2.
        pred_masks: predicted class indices (not probabilities), same shape as ``masks``.
        worst_first: start with the images sorted from the lowest mean IoU up.
        target_class: the class whose false positives and negatives the error map shows.

    Returns:
        A ``VBox``: the controls, the caption and the picture. Display it as a cell's last line.

    Raises:
        ValueError: different numbers of images, masks and predictions, none, or bad masks.
    """
    if not len(images) == len(masks) == len(pred_masks) > 0:
        raise ValueError(
            f"got {len(images)} images, {len(masks)} masks and {len(pred_masks)} pred_masks: "
            "expected the same number (at least 1) of each."
        )
    ious = metrics.mean_iou_per_image(masks, pred_masks, NUM_CLASSES)  # (N,) float64
    order = order_by_iou(ious, worst_first)
    parts = _stepper_widgets(len(order), worst_first)
    slider, sort_box = parts["step"], parts["worst first"]

    def show(_: Any = None) -> None:
        index = int(order[slider.value])
        parts["caption"].value = describe_step(slider.value, order, ious, sort_box.value)
        figure = viz.plot_prediction_errors(
            images[index], masks[index], pred_masks[index], f"image {index}", target_class
        )
        parts["view"].value = figure_to_png(figure)

    def resort(_: Any) -> None:
        order[:] = order_by_iou(ious, sort_box.value)
        if slider.value == 0:
            show()  # setting the slider to 0 again would not redraw
        slider.value = 0

    slider.observe(show, names="value")
    sort_box.observe(resort, names="value")
    parts["◀ Prev"].on_click(lambda _: setattr(slider, "value", max(slider.value - 1, 0)))
    parts["Next ▶"].on_click(lambda _: setattr(slider, "value", min(slider.value + 1, slider.max)))
    show()
    controls = [parts[name] for name in ("play", "◀ Prev", "step", "Next ▶", "worst first")]
    return ipywidgets.VBox([ipywidgets.HBox(controls), parts["caption"], parts["view"]])


def _stepper_widgets(count: int, worst_first: bool) -> dict[str, ipywidgets.Widget]:
    """The stepper's widgets, unwired except for play ↔ slider, keyed by their labels."""
    last = count - 1
    parts = {
        "play": ipywidgets.Play(0, min=0, max=last, interval=1500, description="play"),
        "◀ Prev": ipywidgets.Button(description="◀ Prev"),
        "step": ipywidgets.IntSlider(0, 0, last, description="step", continuous_update=False),
        "Next ▶": ipywidgets.Button(description="Next ▶"),
        "worst first": ipywidgets.Checkbox(worst_first, description="worst first", indent=False),
        "caption": ipywidgets.HTML().add_class("seglab-iou"),  # CSS classes: the browser test
        "view": ipywidgets.Image(format="png").add_class("seglab-view"),
    }
    ipywidgets.link((parts["play"], "value"), (parts["step"], "value"))
    return parts
