"""Self-checks for the exercises: each ``check_*`` prints what is right or wrong and a hint.

A checker takes the student's answer and returns a :class:`Verdict`, true when it is right. An
answer of ``None`` (the student edition's stub) prints "not answered yet" with the hint instead
of failing, so every notebook still runs end to end. The checkers of lesson NN live in
``lessonNN.py`` (lesson 04's in ``lesson04_shapes.py`` and ``lesson04_unet.py``); what they
share, in :mod:`labutils.checks.verdict`. Notebooks call them through this package:
``from labutils import checks; checks.check_mask_box(box, mask)``.
"""

from labutils.checks.lesson01 import check_mask_box, check_mask_disagreement, check_masked_mean
from labutils.checks.lesson02 import (
    check_dataset_iou,
    check_mean_iou_from_probs,
    check_per_class_iou,
)
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
from labutils.checks.lesson05 import check_best_epoch, check_flip_average
from labutils.checks.lesson05_augment import check_augment_pair, check_fit
from labutils.checks.lesson05_fit import check_callbacks, check_compile
from labutils.checks.lesson05_losses import check_ce_dice_loss, check_soft_dice_loss
from labutils.checks.lesson06 import check_full_size, check_precision, check_worst_images
from labutils.checks.lesson07 import check_head_boxes, check_precision_recall
from labutils.checks.lesson07_detector import (
    check_average_precision,
    check_box_head,
    check_giou_loss,
)
from labutils.checks.lesson08 import check_grabcut, check_mask_ious, check_split_touching
from labutils.checks.lesson09 import check_decoder, check_resize_upsample, check_unfreeze
from labutils.checks.verdict import Verdict, not_answered, report

__all__ = [
    "Verdict",
    "check_augment_pair",
    "check_average_precision",
    "check_background_accuracy",
    "check_best_epoch",
    "check_flip_average",
    "check_box_head",
    "check_callbacks",
    "check_ce_dice_loss",
    "check_compile",
    "check_conv_block",
    "check_conv_parameters",
    "check_dataset_iou",
    "check_decoder",
    "check_down_block",
    "check_fit",
    "check_full_size",
    "check_giou_loss",
    "check_grabcut",
    "check_head_boxes",
    "check_mask_box",
    "check_mask_disagreement",
    "check_mask_ious",
    "check_masked_mean",
    "check_mean_iou_from_probs",
    "check_per_class_iou",
    "check_pipeline_order",
    "check_precision",
    "check_precision_recall",
    "check_receptive_field",
    "check_resize_mask",
    "check_resize_upsample",
    "check_soft_dice_loss",
    "check_split_touching",
    "check_unet",
    "check_unet_output_shape",
    "check_unfreeze",
    "check_up_block",
    "check_worst_images",
    "not_answered",
    "report",
]
