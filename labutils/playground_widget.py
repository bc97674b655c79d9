"""The IoU playground (lesson 02): move and resize a predicted mask, watch IoU and Dice.

:func:`score_shifted_prediction` makes and scores the prediction, :func:`plot_shifted_prediction`
draws it, and :func:`iou_playground` only connects sliders to them; the notebook also calls the
two functions once directly, so a headless run (CI, a static render) shows a result too. Pixels
are coloured by kind in ``error_analysis.ERROR_COLORS``, the colours of lesson 06's error maps.
"""

from __future__ import annotations

from typing import Any

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from labutils import metrics
from labutils.error_analysis import colorize_errors, error_legend_handles, error_map
from labutils.mask_inputs import as_binary_mask

__all__ = ["iou_playground", "plot_shifted_prediction", "score_shifted_prediction"]

#: The four kinds of pixel, in the code order of ``error_analysis.error_map`` seen from the
#: object (class 1 of a binary mask); they take the first four ``ERROR_COLORS``.
_OVERLAP_KINDS = (
    "neither (true negative)",
    "both (intersection, TP)",
    "prediction only (FP)",
    "truth only (missed, FN)",
)


def score_shifted_prediction(
    truth_mask: Any, dx: float = 0, dy: float = 0, scale: float = 1.0
) -> dict[str, Any]:
    """Make a prediction by moving and resizing the true mask, and score it.

    The prediction is ``truth_mask`` scaled by ``scale`` about the object's centre, then
    shifted by ``(dx, dy)`` pixels (nearest-neighbour sampling; what leaves the image is lost).

    Taught in lesson 02, §8 "Playground: move and resize a prediction".

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

    >>> square = np.zeros((6, 6), bool)
    >>> square[1:3, 1:3] = True  # a 2 x 2 object
    >>> scores = score_shifted_prediction(square, dx=1)  # half of it still overlaps
    >>> round(scores["iou"], 3), round(scores["dice"], 3), int(scores["pred_mask"].sum())
    (0.333, 0.5, 4)
    """
    truth = as_binary_mask(truth_mask, "truth_mask", require_object=True)
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
        "iou": float(metrics.iou_per_class(truth, pred_mask, 2)[1]),  # 2 classes: 1 = object
        "dice": float(metrics.dice_per_class(truth, pred_mask, 2)[1]),
        "accuracy": metrics.pixel_accuracy(truth, pred_mask),
    }


def plot_shifted_prediction(truth_mask: Any, scores: dict[str, Any]) -> Figure:
    """Draw where a prediction and the truth agree, with its scores in the title.

    Taught in lesson 02, §8 "Playground: move and resize a prediction".

    Args:
        truth_mask: the (H, W) binary mask given to :func:`score_shifted_prediction`.
        scores: what :func:`score_shifted_prediction` returned for it.

    Returns:
        The figure: one panel colouring each pixel as true negative, intersection (TP),
        prediction only (FP) or truth only (FN), with a legend.

    >>> square = np.eye(2, dtype=bool)
    >>> fig = plot_shifted_prediction(square, score_shifted_prediction(square))
    >>> fig.axes[0].get_title()
    'IoU 1.000 · Dice 1.000 · accuracy 1.000'
    >>> plt.close(fig)
    """
    truth = as_binary_mask(truth_mask, "truth_mask", require_object=True)
    pred = np.asarray(scores["pred_mask"], dtype=bool)
    kind = error_map(truth, pred, target_class=1)  # (H, W), 0..3: TN, TP, FP, FN
    fig, ax = plt.subplots(figsize=(4.4, 4.9))
    ax.imshow(colorize_errors(kind) / 255, interpolation="nearest")
    ax.set_title(
        f"IoU {scores['iou']:.3f} · Dice {scores['dice']:.3f} · accuracy {scores['accuracy']:.3f}"
    )
    ax.set_axis_off()
    handles = error_legend_handles(_OVERLAP_KINDS)
    fig.legend(handles=handles, loc="lower center", ncol=2, frameon=False, fontsize="small")
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.13, top=0.93)
    return fig


def iou_playground(truth_mask: Any) -> ipywidgets.interactive:
    """Sliders that move (dx, dy) and resize (scale) a predicted mask over ``truth_mask``.

    Each change redraws :func:`plot_shifted_prediction`; the widget's ``result`` holds the
    latest :func:`score_shifted_prediction` dict. Display it as a notebook cell's last line.

    Taught in lesson 02, §8 "Playground: move and resize a prediction".

    Args:
        truth_mask: (H, W) binary mask with at least one object pixel.

    Returns:
        An ``ipywidgets.interactive`` with three sliders and the figure below them.
    """
    truth = as_binary_mask(truth_mask, "truth_mask", require_object=True)
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
