"""The prediction stepper (lesson 06): step through a model's predictions, worst first.

Each step shows ``error_analysis.plot_prediction_errors`` of one image (image, truth,
prediction and error map) under a caption with its mean IoU. :func:`order_by_iou` and
:func:`describe_step` compute what is shown; :func:`prediction_stepper` only wires the
widgets to them.
"""

from __future__ import annotations

import io
from typing import Any

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from labutils import metrics
from labutils.error_analysis import plot_prediction_errors
from labutils.vocabulary import NUM_CLASSES

__all__ = ["describe_step", "figure_to_png", "order_by_iou", "prediction_stepper"]


def order_by_iou(ious: Any, worst_first: bool = False) -> np.ndarray:
    """The order in which to show the images: as given, or from the lowest IoU up.

    Used in lesson 06, §6 "Image by image".

    Args:
        ious: (N,) one score per image, e.g. ``metrics.mean_iou_per_image``.
        worst_first: sort by increasing IoU (ties keep their original order; NaN goes last).

    Returns:
        (N,) int64 image indices: ``order[k]`` is the image shown at step k.

    Raises:
        ValueError: ``ious`` is not a non-empty 1-D sequence.

    >>> order_by_iou([0.9, 0.2, 0.5]).tolist(), order_by_iou([0.9, 0.2, 0.5], True).tolist()
    ([0, 1, 2], [1, 2, 0])
    """
    ious = np.asarray(ious, dtype=np.float64)
    if ious.ndim != 1 or ious.size == 0:
        raise ValueError(f"ious has shape {ious.shape}: expected one IoU per image, (N,), N >= 1.")
    if not worst_first:
        return np.arange(ious.size, dtype=np.int64)
    return np.argsort(ious, kind="stable").astype(np.int64)


def describe_step(position: int, order: Any, ious: Any, worst_first: bool = False) -> str:
    """The stepper's caption: which image is shown, where it ranks, and its mean IoU.

    Used in lesson 06, §6 "Image by image" (the caption of :func:`prediction_stepper`).

    Args:
        position: the step, 0..N-1.
        order: (N,) image indices from :func:`order_by_iou`.
        ious: (N,) per-image IoUs, indexed by image.
        worst_first: whether ``order`` runs from the worst image up (said in the caption).

    Returns:
        An HTML line: the image's index in bold, its rank, and its mean IoU in bold.

    >>> describe_step(0, [1, 0], [0.9, 0.25], worst_first=True)
    '<b>image 1</b> · 1 of 2, worst first · mean IoU <b>0.250</b>'
    """
    index = int(order[position])
    ranking = ", worst first" if worst_first else ""
    return (
        f"<b>image {index}</b> · {position + 1} of {len(order)}{ranking} · "
        f"mean IoU <b>{float(ious[index]):.3f}</b>"
    )


def figure_to_png(fig: Figure, dpi: int = 80) -> bytes:
    """Render a figure to PNG bytes (for an ``ipywidgets.Image``) and close it.

    Used in lesson 06, §6 "Image by image" (each picture of :func:`prediction_stepper`).

    Args:
        fig: a matplotlib figure.
        dpi: resolution of the PNG.

    Returns:
        The PNG file's bytes.

    >>> figure_to_png(plt.figure(figsize=(1, 1)))[:4]
    b'\\x89PNG'
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return buffer.getvalue()


def prediction_stepper(
    images: Any, masks: Any, pred_masks: Any, worst_first: bool = False, target_class: int = 0
) -> ipywidgets.VBox:
    """Step through predictions: slider, play, previous / next buttons and a worst-first box.

    Used in lesson 06, §6 "Image by image".

    Each step shows ``error_analysis.plot_prediction_errors`` of one image (as a PNG in an
    ``ipywidgets.Image`` with CSS class ``seglab-view``) under a caption from
    :func:`describe_step` (an ``ipywidgets.HTML`` with CSS class ``seglab-iou``).

    Args:
        images: (N, H, W, 3) RGB, uint8 or float in [0, 1].
        masks: (N, H, W, 1) or (N, H, W) true class indices.
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
        figure = plot_prediction_errors(
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
