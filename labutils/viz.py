"""Masks drawn on photos: class colours, overlays, galleries and the one class legend.

A mask holds class indices ``0..NUM_CLASSES - 1`` in the order of ``vocabulary.CLASS_NAMES``
(pet, background, border), painted in ``vocabulary.CLASS_COLORS`` (Okabe–Ito colours, which
stay distinguishable under the common forms of colour blindness). The raw Oxford-IIIT trimaps
hold 1..3, so callers subtract 1 first; ``mask_inputs.as_label_mask`` refuses a raw trimap and says
so. Every figure function returns its matplotlib ``Figure`` (a notebook shows it; a test
inspects it); every figure that shows classes carries the legend of :func:`add_class_legend`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.patches import Patch

from labutils.mask_inputs import as_label_mask
from labutils.vocabulary import CLASS_COLORS, CLASS_NAMES, NUM_CLASSES

__all__ = [
    "add_class_legend",
    "as_rgb_image",
    "class_legend_handles",
    "colorize_mask",
    "overlay_mask",
    "show_gallery",
    "show_overlays",
]

_PALETTE = np.array(CLASS_COLORS, dtype=np.uint8)  # (NUM_CLASSES, 3) uint8, row = class index


def as_rgb_image(image: Any, height_width: tuple[int, ...] | None = None) -> np.ndarray:
    """Return ``image`` as (H, W, 3) uint8 or float in [0, 1], or raise ValueError.

    Every picture of a photo checks it here. Used in lesson 03, §5 "Galleries".

    Args:
        image: an RGB image, uint8 0..255 or float 0..1.
        height_width: the (H, W) of its mask, when it has one.

    Returns:
        The image as an array, unchanged.

    Raises:
        ValueError: not (H, W, 3), not the mask's size, or floats outside [0, 1].

    >>> as_rgb_image(np.zeros((2, 3, 3))).shape
    (2, 3, 3)
    >>> as_rgb_image(np.full((1, 1, 3), 255.0))
    Traceback (most recent call last):
    ValueError: float images must be in [0, 1]; got [255, 255]. Divide a 0..255 image by 255.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"expected an RGB image of shape (H, W, 3); got {image.shape}.")
    if height_width is not None and image.shape[:2] != height_width:
        raise ValueError(
            f"image is {image.shape[:2]} but its mask is {height_width}: resize them together."
        )
    if image.dtype != np.uint8:
        if not np.issubdtype(image.dtype, np.floating):
            raise ValueError(f"expected a uint8 or float image; got dtype {image.dtype}.")
        if image.size and (image.min() < 0 or image.max() > 1):
            raise ValueError(
                f"float images must be in [0, 1]; got [{image.min():.3g}, {image.max():.3g}]. "
                "Divide a 0..255 image by 255."
            )
    return image


def colorize_mask(mask: Any) -> np.ndarray:
    """Paint each class of a mask in its ``vocabulary.CLASS_COLORS`` colour.

    Taught in lesson 02, §2 "Boxes or pixels: detection vs segmentation".

    Args:
        mask: (H, W) or (H, W, 1) integer class indices ``0..NUM_CLASSES - 1``.

    Returns:
        (H, W, 3) uint8 RGB picture.

    Raises:
        ValueError: wrong shape, or labels out of range (e.g. a raw 1..3 trimap).

    >>> picture = colorize_mask([[0, 1]])  # a pet pixel, then a background pixel
    >>> picture.shape, picture.dtype, picture[0, 0].tolist()
    ((1, 2, 3), dtype('uint8'), [213, 94, 0])
    """
    return _PALETTE[as_label_mask(mask)]


def overlay_mask(image: Any, mask: Any, alpha: float = 0.5) -> np.ndarray:
    """Blend the class colours of ``mask`` over ``image``: ``(1 - alpha) * image + alpha * colour``.

    Used in lesson 03, §5 "Galleries" (through :func:`show_gallery` and :func:`show_overlays`).

    Args:
        image: (H, W, 3) RGB, uint8 0..255 or float 0..1.
        mask: (H, W) or (H, W, 1) class indices, same H and W as ``image``.
        alpha: opacity of the colours, 0 (image only) to 1 (colours only).

    Returns:
        (H, W, 3) array of the image's kind: uint8 for a uint8 image, else float32 in [0, 1].

    Raises:
        ValueError: bad shapes, value ranges or alpha.

    >>> overlay_mask(np.zeros((1, 2, 3), np.uint8), [[0, 1]], alpha=1.0)[0, 1].tolist()
    [0, 114, 178]
    """
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be between 0 and 1; got {alpha}.")
    mask = as_label_mask(mask)
    image = as_rgb_image(image, mask.shape)
    scale = 255.0 if image.dtype == np.uint8 else 1.0
    colours = _PALETTE[mask].astype(np.float32) / 255.0 * scale
    blended = (1 - alpha) * image.astype(np.float32) + alpha * colours
    if image.dtype == np.uint8:
        return np.round(blended).astype(np.uint8)
    return blended.astype(np.float32)


def class_legend_handles() -> list[Patch]:
    """One coloured patch per class, named: the handles of every class legend in the course.

    Used in lesson 03, §5 "Galleries" (also for Keras's own gallery there).

    Returns:
        ``NUM_CLASSES`` patches in the order of ``CLASS_NAMES``.

    >>> [patch.get_label() for patch in class_legend_handles()]
    ['pet', 'background', 'border']
    """
    return [
        Patch(facecolor=_PALETTE[c] / 255, edgecolor="black", label=name)
        for c, name in enumerate(CLASS_NAMES)
    ]


def add_class_legend(fig: Figure, **options: Any) -> Legend:
    """Put the class legend (:func:`class_legend_handles`) on a figure, under it by default.

    Used in lesson 03, §5 "Galleries", and by every figure here that shows classes.

    Args:
        fig: the figure.
        **options: ``Figure.legend`` options replacing the defaults (lower centre, one row,
            no frame), e.g. ``title="classes"``.

    Returns:
        The legend.

    >>> fig = plt.figure()
    >>> len(add_class_legend(fig).get_texts()) == NUM_CLASSES
    True
    >>> plt.close(fig)
    """
    defaults = {"loc": "lower center", "ncols": NUM_CLASSES, "frameon": False}
    return fig.legend(handles=class_legend_handles(), **{**defaults, **options})


def _count_items(**named: Any) -> int:
    """Return the common length of the given sequences (``None`` skipped), or raise ValueError."""
    lengths = {name: len(items) for name, items in named.items() if items is not None}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"need one of each per example; got lengths {lengths}.")
    return next(iter(lengths.values()))


def show_overlays(
    images: Any,
    masks: Any = None,
    pred_masks: Any = None,
    titles: Sequence[str] | None = None,
    alpha: float = 0.5,
    size: float = 2.5,
) -> Figure:
    """One row per example: the image, its true mask over it, and the predicted mask over it.

    Used in lesson 03, §8 "The input pipeline", and in lessons 04 to 08 for predictions.

    Args:
        images: (N, H, W, 3) uint8 or float [0, 1] (or a list of (H, W, 3) images).
        masks: (N, H, W, 1) or (N, H, W) true class indices, or ``None`` for photos
            without a true mask (e.g. your own photo in lesson 06, §7).
        pred_masks: optional predicted class indices, same shape as ``masks``.
        titles: optional title per row, shown over the image.
        alpha: opacity of the mask colours.
        size: height in inches of one row.

    Returns:
        The Figure: N × 2 axes (N × 3 with predictions, one fewer without true masks) and a
        legend with the class names.

    Raises:
        ValueError: the numbers of images, masks, predictions or titles differ, or bad values.

    >>> fig = show_overlays(np.zeros((2, 4, 4, 3)), np.ones((2, 4, 4), int))
    >>> len(fig.axes), fig.axes[1].get_title()
    (4, 'true mask')
    >>> plt.close(fig)
    """
    n = _count_items(images=images, masks=masks, pred_masks=pred_masks, titles=titles)
    names = ["image"] + (["true mask"] if masks is not None else [])
    names += ["predicted mask"] if pred_masks is not None else []
    fig, axes = plt.subplots(
        n, len(names), figsize=(size * len(names), size * n + 0.4), squeeze=False
    )
    for i in range(n):
        shown = [as_rgb_image(images[i])]
        if masks is not None:
            shown.append(overlay_mask(images[i], masks[i], alpha))
        if pred_masks is not None:
            shown.append(overlay_mask(images[i], pred_masks[i], alpha))
        for ax, picture, name in zip(axes[i], shown, names, strict=True):
            ax.imshow(picture)
            ax.set_title(titles[i] if titles is not None and name == "image" else name)
            ax.axis("off")
    add_class_legend(fig)
    fig.tight_layout(rect=(0, 0.4 / fig.get_figheight(), 1, 1))
    return fig


def show_gallery(
    images: Any,
    masks: Any = None,
    titles: Sequence[str] | None = None,
    cols: int = 4,
    alpha: float = 0.5,
    size: float = 2.5,
) -> Figure:
    """A grid of images, optionally with their masks overlaid in the class colours.

    Taught in lesson 03, §5 "Galleries".

    Args:
        images: N RGB images, (N, H, W, 3) or a list whose images may differ in size.
        masks: optional N masks of class indices matching the images.
        titles: optional title per image.
        cols: images per row.
        alpha: opacity of the mask colours.
        size: side in inches of one cell.

    Returns:
        The Figure with exactly N axes (and a class legend when masks are given).

    Raises:
        ValueError: the numbers of images, masks and titles differ, or bad values.

    >>> fig = show_gallery([np.zeros((4, 4, 3)), np.ones((2, 3, 3))], cols=2)
    >>> len(fig.axes), len(fig.legends)
    (2, 0)
    >>> plt.close(fig)
    """
    n = _count_items(images=images, masks=masks, titles=titles)
    rows, cols = -(-n // cols), min(cols, n)
    legend_space = 0.4 if masks is not None else 0.0
    fig = plt.figure(figsize=(size * cols, size * rows + legend_space))
    for i in range(n):
        ax = fig.add_subplot(rows, cols, i + 1)
        shown = (
            as_rgb_image(images[i]) if masks is None else overlay_mask(images[i], masks[i], alpha)
        )
        ax.imshow(shown)
        ax.set_title(titles[i] if titles is not None else "", fontsize=9)
        ax.axis("off")
    if masks is not None:
        add_class_legend(fig)
    fig.tight_layout(rect=(0, legend_space / fig.get_figheight(), 1, 1))
    return fig
