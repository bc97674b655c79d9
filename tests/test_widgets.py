"""labutils.widgets: the pure functions behind each widget, then the thin widget itself."""

import re

import matplotlib.pyplot as plt
import numpy as np
import pytest

from labutils import widgets

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
    scores = widgets.score_shifted_prediction(square)
    np.testing.assert_array_equal(scores["pred_mask"], square)
    assert scores["iou"] == scores["dice"] == scores["accuracy"] == 1.0


@pytest.mark.parametrize(("dx", "dy"), [(2, 0), (0, 2), (-2, 0), (0, -2)])
def test_shift_gives_the_hand_computed_scores(square, dx, dy):
    scores = widgets.score_shifted_prediction(square, dx=dx, dy=dy)
    # 80 of 100 pixels still overlap: IoU 80 / 120, Dice 160 / 200, 40 of 1600 pixels wrong
    assert scores["iou"] == pytest.approx(2 / 3)
    assert scores["dice"] == pytest.approx(0.8)
    assert scores["accuracy"] == pytest.approx(1 - 40 / 1600)
    assert scores["pred_mask"].sum() == 100


def test_shift_directions_follow_image_coordinates(square):
    right_down = widgets.score_shifted_prediction(square, dx=3, dy=5)["pred_mask"]
    rows, cols = np.nonzero(right_down)
    assert (rows.min(), cols.min()) == (15, 13)


def test_prediction_moved_out_of_the_image_scores_zero(square):
    scores = widgets.score_shifted_prediction(square, dx=35)
    assert not scores["pred_mask"].any()
    assert scores["iou"] == scores["dice"] == 0.0
    assert scores["accuracy"] == pytest.approx(1 - 100 / 1600)


@pytest.mark.parametrize(("scale", "area"), [(2.0, 400), (0.5, 25)])
def test_scaling_keeps_the_centre_and_scales_the_area(square, scale, area):
    scores = widgets.score_shifted_prediction(square, scale=scale)
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
        widgets.score_shifted_prediction(mask, **kwargs)


def test_figure_colours_each_kind_of_pixel_and_shows_the_scores(square):
    scores = widgets.score_shifted_prediction(square, dx=2)
    fig = widgets.plot_shifted_prediction(square, scores)
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
    playground = widgets.iou_playground(square)
    sliders = {w.description: w for w in playground.children if hasattr(w, "description")}
    assert set(sliders) == {"dx (right)", "dy (down)", "scale"}
    assert playground.result["iou"] == 1.0
    sliders["dx (right)"].value = 2
    assert playground.result["iou"] == pytest.approx(2 / 3)
    sliders["scale"].value = 2.0
    expected = widgets.score_shifted_prediction(square, dx=2, scale=2.0)
    assert playground.result["iou"] == pytest.approx(expected["iou"])
