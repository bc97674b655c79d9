"""playground_widget and stepper_widget: the pure functions behind each widget, then the widget."""

import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgb

from labutils import error_analysis, metrics, playground_widget, stepper_widget

plt.switch_backend("Agg")  # draw off-screen


@pytest.fixture
def square():
    """A (40, 40) bool mask with a 10 x 10 object: rows and columns 10..19."""
    mask = np.zeros((40, 40), bool)
    mask[10:20, 10:20] = True
    return mask


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# --- IoU playground ------------------------------------------------------------------------


def test_unchanged_prediction_is_perfect(square):
    scores = playground_widget.score_shifted_prediction(square)
    np.testing.assert_array_equal(scores["pred_mask"], square)
    assert scores["iou"] == scores["dice"] == scores["accuracy"] == 1.0


@pytest.mark.parametrize(("dx", "dy"), [(2, 0), (0, 2), (-2, 0), (0, -2)])
def test_shift_gives_the_hand_computed_scores(square, dx, dy):
    scores = playground_widget.score_shifted_prediction(square, dx=dx, dy=dy)
    # 80 of 100 pixels still overlap: IoU 80 / 120, Dice 160 / 200, 40 of 1600 pixels wrong
    assert scores["iou"] == pytest.approx(2 / 3)
    assert scores["dice"] == pytest.approx(0.8)
    assert scores["accuracy"] == pytest.approx(1 - 40 / 1600)
    assert scores["pred_mask"].sum() == 100


def test_shift_directions_follow_image_coordinates(square):
    right_down = playground_widget.score_shifted_prediction(square, dx=3, dy=5)["pred_mask"]
    rows, cols = np.nonzero(right_down)
    assert (rows.min(), cols.min()) == (15, 13)


def test_prediction_moved_out_of_the_image_scores_zero(square):
    scores = playground_widget.score_shifted_prediction(square, dx=35)
    assert not scores["pred_mask"].any()
    assert scores["iou"] == scores["dice"] == 0.0
    assert scores["accuracy"] == pytest.approx(1 - 100 / 1600)


@pytest.mark.parametrize(("scale", "area"), [(2.0, 400), (0.5, 25)])
def test_scaling_keeps_the_centre_and_scales_the_area(square, scale, area):
    scores = playground_widget.score_shifted_prediction(square, scale=scale)
    pred = scores["pred_mask"]
    assert pred.sum() == area
    assert np.argwhere(pred).mean(axis=0) == pytest.approx([14.5, 14.5], abs=0.5)
    assert scores["iou"] == pytest.approx(0.25)  # the smaller square lies inside the larger


@pytest.mark.parametrize(
    ("mask", "kwargs", "expected"),
    [
        (np.zeros((2, 4, 4)), {}, "expected an (H, W) binary mask"),
        (np.full((4, 4), 2), {}, "expected a binary mask"),
        (np.zeros((4, 4)), {}, "no object pixels"),
        (np.ones((4, 4)), {"scale": 0}, "scale must be > 0"),
    ],
)
def test_bad_input_says_what_was_expected(mask, kwargs, expected):
    with pytest.raises(ValueError, match=re.escape(expected)):
        playground_widget.score_shifted_prediction(mask, **kwargs)


def test_figure_colours_each_kind_of_pixel_and_shows_the_scores(square):
    scores = playground_widget.score_shifted_prediction(square, dx=2)
    fig = playground_widget.plot_shifted_prediction(square, scores)
    ax = fig.axes[0]
    assert "IoU 0.667" in ax.get_title() and "Dice 0.800" in ax.get_title()
    picture = ax.images[0].get_array()  # (H, W, 3) RGB
    legend = fig.legends[0]
    colours = {
        text.get_text(): handle.get_facecolor()[:3]
        for text, handle in zip(legend.get_texts(), legend.legend_handles, strict=True)
    }
    np.testing.assert_allclose(picture[15, 15], colours["both (intersection, TP)"])
    np.testing.assert_allclose(picture[15, 10], colours["truth only (missed, FN)"])
    np.testing.assert_allclose(picture[15, 21], colours["prediction only (FP)"])
    np.testing.assert_allclose(picture[0, 0], colours["neither (true negative)"])


def test_playground_sliders_rescore_the_prediction(square):
    playground = playground_widget.iou_playground(square)
    sliders = {w.description: w for w in playground.children if hasattr(w, "description")}
    assert set(sliders) == {"dx (right)", "dy (down)", "scale"}
    assert playground.result["iou"] == 1.0
    sliders["dx (right)"].value = 2
    assert playground.result["iou"] == pytest.approx(2 / 3)
    sliders["scale"].value = 2.0
    expected = playground_widget.score_shifted_prediction(square, dx=2, scale=2.0)
    assert playground.result["iou"] == pytest.approx(expected["iou"])


# --- prediction stepper --------------------------------------------------------------------


def test_order_by_iou_keeps_the_order_or_puts_the_worst_first():
    ious = [0.9, 0.2, 0.5, 0.2]
    np.testing.assert_array_equal(stepper_widget.order_by_iou(ious), [0, 1, 2, 3])
    np.testing.assert_array_equal(stepper_widget.order_by_iou(ious, worst_first=True), [1, 3, 2, 0])
    assert stepper_widget.order_by_iou(ious).dtype == np.int64
    with pytest.raises(ValueError, match=r"expected one IoU per image, \(N,\)"):
        stepper_widget.order_by_iou([])


def test_describe_step_names_the_image_its_rank_and_its_iou():
    ious = np.array([0.9, 0.2, 0.5])
    order = stepper_widget.order_by_iou(ious, worst_first=True)  # [1, 2, 0]
    assert stepper_widget.describe_step(1, order, ious, worst_first=True) == (
        "<b>image 2</b> · 2 of 3, worst first · mean IoU <b>0.500</b>"
    )
    assert stepper_widget.describe_step(0, [0, 1, 2], ious) == (
        "<b>image 0</b> · 1 of 3 · mean IoU <b>0.900</b>"
    )


def test_figure_to_png_returns_png_bytes_and_closes_the_figure():
    fig = plt.figure(figsize=(1, 1))
    png = stepper_widget.figure_to_png(fig)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert not plt.fignum_exists(fig.number)


@pytest.fixture
def predictions():
    """Four 8 x 8 examples; per-image mean IoU 1, 0.25, 1, 0.583: image 1 is the worst."""
    rng = np.random.default_rng(0)
    images = rng.random((4, 8, 8, 3))  # (4, 8, 8, 3) float in [0, 1]
    masks = np.ones((4, 8, 8, 1), np.int32)  # background ...
    masks[:, 2:6, 2:6] = 0  # ... around a 4 x 4 pet
    masks[:, 2:6, 2] = 2  # with a border on its left side
    pred_masks = masks.copy()
    pred_masks[1, :, :, 0] = 1  # image 1: background everywhere, the worst
    pred_masks[3, 2:6, 2:6] = 0  # image 3: the border taken for pet
    return images, masks, pred_masks


def stepper_parts(stepper):
    """The stepper's widgets by role: buttons by description, and the rest by type."""
    controls, caption, view = stepper.children
    parts = {w.description: w for w in controls.children}
    return parts, caption, view


def test_stepper_shows_the_first_image_with_css_classes_for_the_browser(predictions):
    stepper = stepper_widget.prediction_stepper(*predictions)
    parts, caption, view = stepper_parts(stepper)
    assert set(parts) == {"play", "◀ Prev", "step", "Next ▶", "worst first"}
    assert "seglab-iou" in caption._dom_classes and "seglab-view" in view._dom_classes
    assert caption.value == "<b>image 0</b> · 1 of 4 · mean IoU <b>1.000</b>"
    assert bytes(view.value).startswith(b"\x89PNG")


def test_stepper_slider_and_buttons_change_image_and_caption(predictions):
    ious = metrics.mean_iou_per_image(predictions[1], predictions[2], 3)
    parts, caption, view = stepper_parts(stepper_widget.prediction_stepper(*predictions))
    first_png = view.value
    parts["step"].value = 1
    assert caption.value.startswith("<b>image 1</b> · 2 of 4")
    assert f"{ious[1]:.3f}" in caption.value and view.value != first_png
    parts["Next ▶"].click()
    assert parts["step"].value == 2 and caption.value.startswith("<b>image 2</b>")
    parts["Next ▶"].click(), parts["Next ▶"].click()  # the last image: Next stays there
    assert parts["step"].value == 3
    parts["◀ Prev"].click()
    assert parts["step"].value == 2
    parts["play"].value = 0  # play and slider are linked
    assert parts["step"].value == 0 and caption.value.startswith("<b>image 0</b>")


def test_stepper_worst_first_starts_at_the_worst_image(predictions):
    parts, caption, _ = stepper_parts(stepper_widget.prediction_stepper(*predictions))
    parts["step"].value = 2
    parts["worst first"].value = True
    assert parts["step"].value == 0
    assert caption.value.startswith("<b>image 1</b> · 1 of 4, worst first")
    parts["Next ▶"].click()
    assert caption.value.startswith("<b>image 3</b> · 2 of 4, worst first")
    parts["worst first"].value = False  # back at step 0 already: redrawn all the same
    assert caption.value.startswith("<b>image 0</b> · 1 of 4 ·")


def test_stepper_refuses_mismatched_inputs(predictions):
    images, masks, pred_masks = predictions
    with pytest.raises(ValueError, match="expected the same number"):
        stepper_widget.prediction_stepper(images[:3], masks, pred_masks)


def test_playground_paints_with_the_error_map_colours(square):
    """The playground's four kinds of pixel are lesson 06's error-map kinds, in their colours."""
    scores = playground_widget.score_shifted_prediction(square)
    fig = playground_widget.plot_shifted_prediction(square, scores)
    handles = fig.legends[0].legend_handles
    expected = [to_rgb(colour) for colour in error_analysis.ERROR_COLORS[: len(handles)]]
    assert [tuple(h.get_facecolor()[:3]) for h in handles] == expected
