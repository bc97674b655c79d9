"""Self-checks for the exercises: each ``check_*`` prints what is right or wrong and a hint.

A checker takes the student's answer and returns a :class:`Verdict`, true when it is right. An
answer of ``None`` (the student edition's stub) prints "not answered yet" with the hint instead
of failing, so every notebook still runs end to end. The checkers of lesson NN live in
``lessonNN.py`` (lesson 04's in ``lesson04_shapes.py`` and ``lesson04_unet.py``); what they
share, in :mod:`labutils.checks.verdict`. Notebooks call them through this package:
``from labutils import checks; checks.check_mask_box(box, mask)``.
"""

from labutils.checks.lesson01 import check_mask_box, check_mask_disagreement, check_masked_mean
from labutils.checks.lesson02 import check_box_iou, check_per_class_iou
from labutils.checks.lesson03 import (
    check_background_accuracy,
    check_pipeline_order,
    check_resize_mask,
)
from labutils.checks.lesson04_shapes import (
    check_conv_parameters,
    check_receptive_field,
    check_unet_output_shape,
)
from labutils.checks.lesson04_unet import (
    check_conv_block,
    check_down_block,
    check_unet,
    check_up_block,
)
from labutils.checks.lesson05 import check_best_epoch
from labutils.checks.lesson06 import check_precision, check_worst_images
from labutils.checks.lesson07 import check_giou, check_head_boxes, check_precision_recall
from labutils.checks.lesson09 import check_decoder, check_resize_upsample, check_unfreeze
from labutils.checks.verdict import Verdict, not_answered, report

__all__ = [
    "Verdict",
    "check_background_accuracy",
    "check_best_epoch",
    "check_box_iou",
    "check_conv_block",
    "check_conv_parameters",
    "check_decoder",
    "check_down_block",
    "check_giou",
    "check_head_boxes",
    "check_mask_box",
    "check_mask_disagreement",
    "check_masked_mean",
    "check_per_class_iou",
    "check_pipeline_order",
    "check_precision",
    "check_precision_recall",
    "check_receptive_field",
    "check_resize_mask",
    "check_resize_upsample",
    "check_unet",
    "check_unet_output_shape",
    "check_unfreeze",
    "check_up_block",
    "check_worst_images",
    "not_answered",
    "report",
]
