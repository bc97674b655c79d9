"""Interactive widgets for the lessons: thin ipywidgets wrappers over tested pure functions.

Each widget has a pure function that computes what it shows and a figure function that draws
it; the widget only connects sliders to them. A notebook also calls both functions once
directly, so a headless run (CI, a static render) shows a result too.

* IoU playground (lesson 02): move and resize a predicted mask over the true one and watch
  IoU, Dice and pixel accuracy change.
"""

from __future__ import annotations

from typing import Any

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from labutils import metrics

__all__ = ["iou_playground", "plot_shifted_prediction", "score_shifted_prediction"]

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
