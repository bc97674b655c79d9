"""Pictures for the lessons: mask overlays, galleries, training curves, dataset statistics.

Every plotting function returns its matplotlib ``Figure`` (a notebook shows it; a test
inspects it). Masks hold class indices **0..2**: 0 = pet, 1 = background, 2 = border. The raw
Oxford-IIIT trimaps hold 1..3, so callers subtract 1 first; a raw trimap passed by mistake is
refused with a ``ValueError`` that says so.

Colours come from the Okabe–Ito palette (Okabe & Ito, *Color Universal Design*, 2008), whose
colours stay distinguishable under the common forms of colour blindness:

========== ============ ==================
class      colour       RGB
========== ============ ==================
pet        vermillion   (213, 94, 0)
background blue         (0, 114, 178)
border     yellow       (240, 228, 66)
========== ============ ==================
"""

from __future__ import annotations

import io
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from PIL import Image, ImageOps, UnidentifiedImageError

from labutils import metrics
from labutils.data import CLASS_NAMES, SPECIES_NAMES

__all__ = [
    "CLASS_COLORS",
    "ERROR_KINDS",
    "colorize_errors",
    "colorize_mask",
    "error_map",
    "overlay_mask",
    "plot_border_thickness",
    "plot_class_shares",
    "plot_confusion_matrix",
    "plot_history",
    "plot_image_sizes",
    "plot_iou_histogram",
    "plot_prediction_errors",
    "plot_species_breeds",
    "read_photo",
    "show_gallery",
    "show_overlays",
]

#: One RGB colour per class, in the order of ``CLASS_NAMES`` (pet, background, border).
CLASS_COLORS: tuple[tuple[int, int, int], ...] = ((213, 94, 0), (0, 114, 178), (240, 228, 66))
_PALETTE = np.array(CLASS_COLORS, dtype=np.uint8)  # (3, 3) uint8, row = class index
_TRAIN_COLOR, _VAL_COLOR = "#0072B2", "#E69F00"  # Okabe–Ito blue and orange
_SPECIES_COLORS = ("#CC79A7", "#009E73")  # Okabe–Ito reddish purple (cat), bluish green (dog)


def _check_mask(mask: Any) -> np.ndarray:
    """Return ``mask`` as an (H, W) integer array of class indices 0..2, or raise ValueError."""
    mask = np.asarray(mask)
    if mask.ndim == 3 and mask.shape[-1] == 1:
        mask = mask[..., 0]
    if mask.ndim != 2:
        raise ValueError(f"expected a mask of shape (H, W) or (H, W, 1); got {mask.shape}.")
    values = np.unique(mask)
    if not np.all(values == np.round(values)):
        raise ValueError(
            f"mask values must be whole class indices 0..2; got {values[:6]}. Fractional "
            "labels come from resizing a mask with bilinear interpolation: use nearest."
        )
    if values.size and (values.min() < 0 or values.max() >= len(CLASS_NAMES)):
        hint = (
            " Is this a raw trimap (1..3)? Subtract 1 first: mask - 1." if values.max() == 3 else ""
        )
        raise ValueError(
            f"mask values must be 0..2 (0 pet, 1 background, 2 border); got {values.tolist()}."
            + hint
        )
    return mask.astype(np.int64)


def _check_image(image: Any, height_width: tuple[int, ...] | None = None) -> np.ndarray:
    """Return ``image`` as (H, W, 3) uint8 or float [0, 1], or raise ValueError."""
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
    """Paint each class of a mask in its ``CLASS_COLORS`` colour.

    Args:
        mask: (H, W) or (H, W, 1) integer class indices 0..2.

    Returns:
        (H, W, 3) uint8 RGB picture.

    Raises:
        ValueError: wrong shape, or values outside 0..2 (e.g. a raw 1..3 trimap).
    """
    return _PALETTE[_check_mask(mask)]


def overlay_mask(image: Any, mask: Any, alpha: float = 0.5) -> np.ndarray:
    """Blend the class colours of ``mask`` over ``image``: ``(1 - alpha) * image + alpha * colour``.

    Args:
        image: (H, W, 3) RGB, uint8 0..255 or float 0..1.
        mask: (H, W) or (H, W, 1) class indices 0..2, same H and W as ``image``.
        alpha: opacity of the colours, 0 (image only) to 1 (colours only).

    Returns:
        (H, W, 3) array of the image's kind: uint8 for a uint8 image, else float32 in [0, 1].

    Raises:
        ValueError: bad shapes, value ranges or alpha.
    """
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be between 0 and 1; got {alpha}.")
    mask = _check_mask(mask)
    image = _check_image(image, mask.shape)
    scale = 255.0 if image.dtype == np.uint8 else 1.0
    colours = _PALETTE[mask].astype(np.float32) / 255.0 * scale
    blended = (1 - alpha) * image.astype(np.float32) + alpha * colours
    if image.dtype == np.uint8:
        return np.round(blended).astype(np.uint8)
    return blended.astype(np.float32)


def read_photo(path: str | Path) -> np.ndarray:
    """Read any photo as RGB, upright, at its own size (``notebooks/06_evaluation.ipynb``).

    Args:
        path: an image file Pillow reads (JPEG, PNG, WebP, ...), or ``"upload"`` to choose a
            file in the browser on Colab (``google.colab.files.upload``).

    Returns:
        (H, W, 3) uint8 RGB, turned as its EXIF orientation says (phone photos).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: not an image, ``"upload"`` outside Colab, or nothing uploaded.
    """
    if str(path) == "upload":
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
    path = Path(path).expanduser()
    if not path.is_file():
        where = f"relative to {Path.cwd()}" if not path.is_absolute() else "an absolute path"
        raise FileNotFoundError(f"No image file at {path}: check PHOTO_PATH ({where}).")
    return _decode_photo(path, str(path))


def _decode_photo(file: Any, name: str) -> np.ndarray:
    try:
        with Image.open(file) as image:
            return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    except UnidentifiedImageError:
        message = f"{name} is not an image Pillow can read (JPEG, PNG, WebP, ...)."
        raise ValueError(message) from None


def _add_class_legend(fig: Figure) -> None:
    """Put one coloured patch per class under the figure."""
    handles = [
        Patch(facecolor=np.array(c) / 255, edgecolor="black", label=name)
        for name, c in zip(CLASS_NAMES, CLASS_COLORS, strict=True)
    ]
    fig.legend(handles=handles, loc="lower center", ncols=len(handles), frameon=False)


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

    Args:
        images: (N, H, W, 3) uint8 or float [0, 1] (or a list of (H, W, 3) images).
        masks: (N, H, W, 1) or (N, H, W) true class indices 0..2, or ``None`` for photos
            without a true mask (e.g. your own photo in ``notebooks/06_evaluation.ipynb``).
        pred_masks: optional predicted class indices, same shape as ``masks``.
        titles: optional title per row, shown over the image.
        alpha: opacity of the mask colours.
        size: height in inches of one row.

    Returns:
        The Figure: N × 2 axes (N × 3 with predictions, one fewer without true masks) and a
        legend with the class names.

    Raises:
        ValueError: the numbers of images, masks, predictions or titles differ, or bad values.
    """
    n = _count_items(images=images, masks=masks, pred_masks=pred_masks, titles=titles)
    names = ["image"] + (["true mask"] if masks is not None else [])
    names += ["predicted mask"] if pred_masks is not None else []
    fig, axes = plt.subplots(
        n, len(names), figsize=(size * len(names), size * n + 0.4), squeeze=False
    )
    for i in range(n):
        shown = [_check_image(images[i])]
        if masks is not None:
            shown.append(overlay_mask(images[i], masks[i], alpha))
        if pred_masks is not None:
            shown.append(overlay_mask(images[i], pred_masks[i], alpha))
        for ax, picture, name in zip(axes[i], shown, names, strict=True):
            ax.imshow(picture)
            ax.set_title(titles[i] if titles is not None and name == "image" else name)
            ax.axis("off")
    _add_class_legend(fig)
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

    Args:
        images: N RGB images, (N, H, W, 3) or a list whose images may differ in size.
        masks: optional N masks of class indices 0..2 matching the images.
        titles: optional title per image.
        cols: images per row.
        alpha: opacity of the mask colours.
        size: side in inches of one cell.

    Returns:
        The Figure with exactly N axes (and a class legend when masks are given).

    Raises:
        ValueError: the numbers of images, masks and titles differ, or bad values.
    """
    n = _count_items(images=images, masks=masks, titles=titles)
    rows, cols = -(-n // cols), min(cols, n)
    legend_space = 0.4 if masks is not None else 0.0
    fig = plt.figure(figsize=(size * cols, size * rows + legend_space))
    for i in range(n):
        ax = fig.add_subplot(rows, cols, i + 1)
        shown = (
            _check_image(images[i]) if masks is None else overlay_mask(images[i], masks[i], alpha)
        )
        ax.imshow(shown)
        ax.set_title(titles[i] if titles is not None else "", fontsize=9)
        ax.axis("off")
    if masks is not None:
        _add_class_legend(fig)
    fig.tight_layout(rect=(0, legend_space / fig.get_figheight(), 1, 1))
    return fig


def _history_dict(history: Any) -> dict[str, list[float]]:
    """Return the per-epoch logs of a Keras ``History`` or of a plain dict."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping):
        raise ValueError(f"expected a keras History or a dict of lists; got {type(history)}.")
    return {str(k): list(v) for k, v in logs.items()}


def plot_history(history: Any) -> Figure:
    """Training curves: one panel per loss / accuracy / IoU metric, train and validation.

    Args:
        history: what ``model.fit`` returned, or its ``.history`` dict
            (``{"loss": [...], "val_loss": [...], "accuracy": [...], ...}``).

    Returns:
        The Figure, one axes per metric found (keys containing "loss", "accuracy" or "iou"),
        each with a "train" line and, when ``val_<metric>`` exists, a "validation" line.

    Raises:
        ValueError: not a history, or no loss/accuracy/IoU entry in it.
    """
    logs = _history_dict(history)
    wanted = ("loss", "accuracy", "iou", "io_u")
    metrics = [k for k in logs if not k.startswith("val_") and any(w in k.lower() for w in wanted)]
    if not metrics:
        raise ValueError(f"no loss, accuracy or IoU in the history; its keys are {list(logs)}.")
    fig, axes = plt.subplots(1, len(metrics), figsize=(4 * len(metrics), 3.2), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        for key, label, color in (
            (metric, "train", _TRAIN_COLOR),
            (f"val_{metric}", "validation", _VAL_COLOR),
        ):
            if key in logs:
                epochs = np.arange(1, len(logs[key]) + 1)
                ax.plot(epochs, logs[key], marker=".", color=color, label=label)
        ax.set(title=metric, xlabel="epoch")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig


def plot_class_shares(
    pixel_counts: Sequence[int], title: str = "Share of pixels per class"
) -> Figure:
    """Bar chart of the share of pixels in each class, in per cent, with the value on each bar.

    Args:
        pixel_counts: number of pixels of each class, in the order of ``CLASS_NAMES``.
        title: the chart's title.

    Returns:
        The Figure with one axes and one bar per class, in the class colours.

    Raises:
        ValueError: not one non-negative count per class, or all counts zero.
    """
    counts = np.asarray(pixel_counts, dtype=np.float64)
    if counts.shape != (len(CLASS_NAMES),) or counts.min() < 0 or counts.sum() == 0:
        raise ValueError(
            f"expected {len(CLASS_NAMES)} non-negative pixel counts {CLASS_NAMES}, not all 0; "
            f"got {pixel_counts}."
        )
    shares = 100 * counts / counts.sum()
    fig, ax = plt.subplots(figsize=(5, 3.2))
    bars = ax.bar(CLASS_NAMES, shares, color=_PALETTE / 255, edgecolor="black")
    ax.bar_label(bars, fmt="%.1f %%")
    ax.set(ylabel="% of all pixels", title=title, ylim=(0, max(shares) * 1.15))
    fig.tight_layout()
    return fig


def plot_image_sizes(heights: Sequence[int], widths: Sequence[int], bins: int = 30) -> Figure:
    """Histograms of image heights and widths (left) and of aspect ratios width / height (right).

    Args:
        heights: height in pixels of each image.
        widths: width in pixels of each image, same length.
        bins: number of histogram bins.

    Returns:
        The Figure with two axes.

    Raises:
        ValueError: empty or different lengths, or sizes that are not positive.
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

    Args:
        labels: breed index of each image, 0..len(breed_names)-1.
        species: species of each image, 0 = cat, 1 = dog.
        breed_names: the name of each breed index.

    Returns:
        The Figure with two axes: a 2-bar chart and a horizontal bar per breed.

    Raises:
        ValueError: lengths differ, or indices out of range.
    """
    labels, species = np.asarray(labels), np.asarray(species)
    if labels.shape != species.shape or labels.ndim != 1 or labels.size == 0:
        raise ValueError(
            f"need one label and one species per image; got {labels.shape}, {species.shape}."
        )
    if (
        labels.min() < 0
        or labels.max() >= len(breed_names)
        or not set(np.unique(species)) <= {0, 1}
    ):
        raise ValueError(
            f"labels must be 0..{len(breed_names) - 1} and species 0 (cat) or 1 (dog)."
        )
    breed_species = np.zeros(len(breed_names), dtype=int)
    breed_species[labels] = species  # each breed belongs to one species
    fig, (ax_species, ax_breeds) = plt.subplots(
        1, 2, figsize=(11, 0.17 * len(breed_names) + 1.5), width_ratios=(1, 2.5)
    )
    bars = ax_species.bar(SPECIES_NAMES, np.bincount(species, minlength=2), color=_SPECIES_COLORS)
    ax_species.bar_label(bars)
    ax_species.set(title="Species", ylabel="images")
    counts = np.bincount(labels, minlength=len(breed_names))
    ax_breeds.barh(breed_names, counts, color=np.array(_SPECIES_COLORS)[breed_species])
    ax_breeds.invert_yaxis()
    ax_breeds.tick_params(axis="y", labelsize=7)
    ax_breeds.set(title="Breeds", xlabel="images")
    ax_breeds.legend(
        handles=[
            Patch(color=c, label=n) for n, c in zip(SPECIES_NAMES, _SPECIES_COLORS, strict=True)
        ],
        loc="lower right",
    )
    fig.tight_layout()
    return fig


def plot_border_thickness(
    thicknesses: Sequence[float], bins: int = 30, unit: str = "pixels"
) -> Figure:
    """Histogram of the border band's thickness per image, with its median marked.

    Args:
        thicknesses: one thickness per image (NaN entries, e.g. images without a border, are
            left out and counted in the title).
        bins: number of histogram bins.
        unit: what the thicknesses measure, the x-axis label (e.g. "pixels at 128 × 128").

    Returns:
        The Figure with one axes.

    Raises:
        ValueError: no finite value, or a negative one.
    """
    values = np.asarray(thicknesses, dtype=np.float64)
    finite = values[np.isfinite(values)]
    if finite.size == 0 or finite.min() < 0:
        raise ValueError(f"need non-negative thicknesses, at least one finite; got {values[:5]}.")
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.hist(finite, bins=bins, color=_PALETTE[2] / 255, edgecolor="black")
    median = float(np.median(finite))
    ax.axvline(median, color="black", linestyle="--", label=f"median {median:.1f}")
    skipped = f", {values.size - finite.size} without border" if finite.size < values.size else ""
    ax.set(title=f"Border thickness ({finite.size} images{skipped})", xlabel=unit, ylabel="images")
    ax.legend()
    fig.tight_layout()
    return fig


# --- evaluation pictures (lesson 06) ---------------------------------------------------------

#: Kinds of pixel in an error map, as seen from one class (the pet by default), in code order
#: 0..4, with their Okabe–Ito colours. ``{name}`` is that class's name, ``{others}`` the other
#: two, e.g. "background ↔ border".
ERROR_KINDS: tuple[tuple[str, str], ...] = (
    ("correct, not {name}", "#F2F2F2"),  # true negative: light grey
    ("correct {name}", "#009E73"),  # true positive: bluish green
    ("false positive: {name} predicted", "#E69F00"),  # orange
    ("false negative: {name} missed", "#CC79A7"),  # reddish purple
    ("{others} confused", "#56B4E9"),  # sky blue: the two other classes mistaken for each other
)


def error_map(mask: Any, pred_mask: Any, target_class: int = 0) -> np.ndarray:
    """Sort every pixel into correct / false positive / false negative for one class.

    With three classes an error is not simply a false positive or a false negative; both are
    defined with respect to ``target_class`` (the pet by default), and a mistake between the
    two other classes (background ↔ border) is a kind of its own.

    Args:
        mask: (H, W) or (H, W, 1) true class indices 0..2.
        pred_mask: predicted class indices, same shape.
        target_class: the class the errors are seen from, 0..2.

    Returns:
        (H, W) int64 codes, indexing :data:`ERROR_KINDS`: 0 correct and not the class, 1 correct
        and the class (TP), 2 predicted as the class but not it (FP), 3 the class but predicted
        as another (FN), 4 wrong between two other classes.

    Raises:
        ValueError: bad values or shapes, or ``target_class`` outside 0..2.
    """
    truth, pred = _check_mask(mask), _check_mask(pred_mask)
    if truth.shape != pred.shape:
        raise ValueError(f"mask is {truth.shape} but pred_mask is {pred.shape}: expected equal.")
    if target_class not in range(len(CLASS_NAMES)):
        raise ValueError(
            f"target_class must be 0..2 ({', '.join(CLASS_NAMES)}); got {target_class}."
        )
    is_true, is_pred = truth == target_class, pred == target_class
    kinds = [is_true & is_pred, is_pred & ~is_true, is_true & ~is_pred, truth != pred]
    return np.select(kinds, [1, 2, 3, 4], default=0)


def colorize_errors(codes: Any) -> np.ndarray:
    """Paint an :func:`error_map` in the colours of :data:`ERROR_KINDS`.

    Args:
        codes: (H, W) integer codes 0..4.

    Returns:
        (H, W, 3) uint8 RGB picture.
    """
    palette = np.array([to_rgb(colour) for _, colour in ERROR_KINDS]) * 255  # (5, 3)
    return np.round(palette).astype(np.uint8)[np.asarray(codes)]


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

    Args:
        image: (H, W, 3) RGB, uint8 or float in [0, 1].
        mask: (H, W) or (H, W, 1) true class indices 0..2.
        pred_mask: predicted class indices, same shape.
        title: put before the scores, e.g. ``"image 17"``.
        target_class: the class whose false positives and negatives the error map shows.

    Returns:
        The Figure: four axes in a row; the title holds the image's mean IoU (over the classes
        in its truth or prediction) and each class's IoU; legends for classes and errors.

    Raises:
        ValueError: bad shapes or values (see :func:`overlay_mask` and :func:`error_map`).
    """
    codes = error_map(mask, pred_mask, target_class)
    ious = metrics.iou_per_class(_check_mask(mask), _check_mask(pred_mask), len(CLASS_NAMES))
    fig, axes = plt.subplots(1, 4, figsize=(13, 4.3))
    name = CLASS_NAMES[target_class]
    panels = {
        "image": _check_image(image, codes.shape),
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
    class_handles = [
        Patch(facecolor=np.array(c) / 255, edgecolor="black", label=n)
        for n, c in zip(CLASS_NAMES, CLASS_COLORS, strict=True)
    ]
    error_handles = [
        Patch(facecolor=c, edgecolor="grey", label=kind.format(name=name, others=others))
        for kind, c in ERROR_KINDS
    ]
    legends = ((class_handles, "classes", 3, 0.38), (error_handles, "errors", 2, 0.77))
    for handles, heading, ncols, x in legends:
        fig.legend(handles=handles, title=heading, ncols=ncols, loc="upper center",
                   bbox_to_anchor=(x, 0.2), fontsize="small", frameon=False)  # fmt: skip
    fig.tight_layout(rect=(0, 0.2, 1, 1))
    return fig


def plot_confusion_matrix(cm: Any, normalize: bool = True) -> Figure:
    """Draw a confusion matrix, row-normalised by default: each row is a true class's recall.

    Args:
        cm: (C, C) pixel counts, rows = true class, columns = predicted class
            (``metrics.confusion_matrix``), C = 3 classes in the order of ``CLASS_NAMES``.
        normalize: divide each row by its sum, so entry [i, j] is the fraction of class i's
            pixels predicted as j and the diagonal holds each class's recall.

    Returns:
        The Figure with one axes, the value written in each cell.

    Raises:
        ValueError: not a (3, 3) matrix of non-negative counts.
    """
    counts = np.asarray(cm, dtype=np.float64)
    if counts.shape != (len(CLASS_NAMES),) * 2 or counts.min() < 0:
        raise ValueError(f"expected a (3, 3) matrix of non-negative counts; got {counts.shape}.")
    rows = counts.sum(axis=1, keepdims=True)
    shown = (
        np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0) if normalize else counts
    )
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else shown.max())
    for (i, j), value in np.ndenumerate(shown):
        text = f"{value:.1%}" if normalize else f"{value:,.0f}"
        colour = "white" if value > 0.5 * (1 if normalize else shown.max()) else "black"
        ax.text(j, i, text, ha="center", va="center", color=colour)
    ax.set_xticks(range(len(CLASS_NAMES)), CLASS_NAMES)
    ax.set_yticks(range(len(CLASS_NAMES)), CLASS_NAMES)
    ax.set(xlabel="predicted class", ylabel="true class")
    ax.set_title("each row sums to 100 % (recall on the diagonal)" if normalize else "pixels")
    fig.tight_layout()
    return fig


def plot_iou_histogram(ious: Sequence[float], bins: int = 20) -> Figure:
    """Histogram of per-image IoUs in [0, 1], with their mean and median marked.

    Args:
        ious: one IoU per image (e.g. ``metrics.mean_iou_per_image``); NaN entries are skipped.
        bins: number of bins between 0 and 1.

    Returns:
        The Figure with one axes.

    Raises:
        ValueError: no finite value, or values outside [0, 1].
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
