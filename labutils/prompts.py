"""Promptable segmentation: a box or a point in, a mask out (OpenCV's GrabCut, and SAM).

GrabCut needs no training; SAM (Segment Anything) runs through KerasHub, from a downloaded
preset or from a small untrained one saved here as a local preset (its masks are
meaningless: it only shows the code path offline). Taught in lesson 08, §3 "A box as a
prompt: GrabCut" and §4 "Segment Anything through KerasHub".
"""

from __future__ import annotations

import socket
from pathlib import Path

import cv2
import numpy as np

__all__ = [
    "build_tiny_sam",
    "can_download_presets",
    "grabcut_mask",
    "save_tiny_sam_preset",
    "segment_with_sam",
]


def grabcut_mask(image: np.ndarray, box: np.ndarray, iterations: int = 5) -> np.ndarray:
    """The foreground GrabCut finds inside a box, with no training (Rother et al., 2004).

    Outside the box is background; inside, colour models of foreground and background are
    fitted and refined ``iterations`` times. A box that covers the whole picture is shrunk to
    leave a one-pixel frame, GrabCut's only sure background; a box under 2 pixels a side
    leaves nothing to cut (an empty mask). OpenCV's random generator is seeded, so the result
    is repeatable. Taught in lesson 08, §3 "A box as a prompt: GrabCut".

    Args:
        image: uint8 (H, W, 3).
        box: (4,) xyxy in pixels (continuous coordinates, see :mod:`labutils.bbox`).
        iterations: GrabCut's refinement rounds.

    Returns:
        bool (H, W): the pixels GrabCut calls (probably) foreground.

    Raises:
        ValueError: not a uint8 colour image.
    """
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected a uint8 (H, W, 3) image, got {image.dtype} {image.shape}.")
    height, width = image.shape[:2]
    x0, y0 = max(1, int(np.floor(box[0]))), max(1, int(np.floor(box[1])))
    x1, y1 = min(width - 1, int(np.ceil(box[2]))), min(height - 1, int(np.ceil(box[3])))
    mask = np.zeros((height, width), np.uint8)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return mask.astype(bool)
    models = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)
    cv2.grabCut(image, mask, (x0, y0, x1 - x0, y1 - y0), *models, iterations,
                cv2.GC_INIT_WITH_RECT)  # fmt: skip
    return (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)


def build_tiny_sam(image_size: int = 128):  # -> keras_hub.models.SAMImageSegmenter
    """A SAM of the real architecture but tiny and untrained: its masks are meaningless.

    Image encoder (a ViTDet), prompt encoder and mask decoder as KerasHub's SAM, with a
    few thousand random weights, and a preprocessor that scales pixels to [0, 1]. Used in
    lesson 08, §4 "Segment Anything through KerasHub" (offline, in place of the preset).

    Returns:
        A ``keras_hub.models.SAMImageSegmenter`` for (B, S, S, 3) images, S = ``image_size``
        (a multiple of 16).
    """
    import keras_hub  # only lesson 08 needs KerasHub

    encoder = keras_hub.models.ViTDetBackbone(
        hidden_size=16, num_layers=2, intermediate_dim=32, num_heads=2,
        global_attention_layer_indices=[1], patch_size=16, num_output_channels=8,
        window_size=2, image_shape=(image_size, image_size, 3),
    )  # fmt: skip
    prompts = keras_hub.layers.SAMPromptEncoder(
        hidden_size=8, image_embedding_size=(image_size // 16,) * 2,
        input_image_size=(image_size, image_size), mask_in_channels=16,
    )  # fmt: skip
    decoder = keras_hub.layers.SAMMaskDecoder(
        num_layers=2, hidden_size=8, intermediate_dim=32, num_heads=2, embedding_dim=8,
        num_multimask_outputs=3, iou_head_depth=3, iou_head_hidden_dim=8,
    )  # fmt: skip
    backbone = keras_hub.models.SAMBackbone(
        image_encoder=encoder, prompt_encoder=prompts, mask_decoder=decoder
    )
    converter = keras_hub.layers.SAMImageConverter(image_size=(image_size,) * 2, scale=1 / 255)
    preprocessor = keras_hub.models.SAMImageSegmenterPreprocessor(image_converter=converter)
    return keras_hub.models.SAMImageSegmenter(backbone=backbone, preprocessor=preprocessor)


def can_download_presets(host: str = "www.kaggle.com", timeout: float = 3.0) -> bool:
    """Whether KerasHub's preset host answers (KerasHub downloads presets from Kaggle).

    Used in lesson 08, §4 "Segment Anything through KerasHub" (the real SAM, or offline the
    tiny local one).

    Args:
        host: the host to reach on port 443.
        timeout: seconds to wait before answering no.
    """
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def save_tiny_sam_preset(folder: str | Path) -> Path:
    """Build :func:`build_tiny_sam` and save it as a KerasHub preset folder.

    ``keras_hub.models.SAMImageSegmenter.from_preset(folder)`` then loads it exactly as it
    loads ``"sam_base_sa1b"``, with no download. Used in lesson 08, §4 "Segment Anything
    through KerasHub".

    Returns:
        The folder (``config.json``, ``model.weights.h5``, ``task.json``, …).
    """
    folder = Path(folder)
    build_tiny_sam().save_to_preset(str(folder))
    return folder


def segment_with_sam(
    segmenter, image: np.ndarray, point: tuple[float, float] | None = None,
    box: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:  # fmt: skip
    """SAM's mask for one prompt on one photo: a foreground point, or a box.

    The photo is resized to the model's square input and the prompt scaled with it. For a
    box, SAM's single mask is kept; for a point (ambiguous: ear, head or pet?), the best of its
    three masks by SAM's own predicted IoU. Taught in lesson 08, §4 "Segment Anything through
    KerasHub".

    Args:
        segmenter: a ``keras_hub.models.SAMImageSegmenter``.
        image: uint8 (H, W, 3).
        point: (x, y) in the photo's pixels, or None.
        box: (4,) xyxy in the photo's pixels, or None.

    Returns:
        bool (H, W) mask and SAM's predicted IoU of it.

    Raises:
        ValueError: not exactly one of ``point`` and ``box``.
    """
    if (point is None) == (box is None):
        raise ValueError("give exactly one prompt: point=(x, y) or box=(x0, y0, x1, y1).")
    height, width = image.shape[:2]
    side = segmenter.backbone.image_encoder.image_shape[0]
    scale = np.array([side / width, side / height])
    inputs = {"images": cv2.resize(image, (side, side))[None].astype("float32")}
    if box is not None:
        inputs["boxes"] = (np.reshape(box, (1, 1, 2, 2)) * scale).astype("float32")
    else:  # a point without a box is padded with a (0, 0) point labelled -1, as SAM expects
        inputs["points"] = np.array([[np.multiply(point, scale), [0, 0]]], "float32")
        inputs["labels"] = np.array([[1, -1]], "float32")
    out = segmenter.predict(inputs, verbose=0)  # masks (1, 4, s, s) logits, iou_pred (1, 4)
    best = 0 if box is not None else 1 + int(np.argmax(out["iou_pred"][0, 1:]))
    logits = cv2.resize(out["masks"][0, best].astype("float32"), (width, height))
    return logits > 0, float(out["iou_pred"][0, best])
