"""Pictures (viz, photos, plots, errors): exact overlay colours, axes and legends, clear errors."""

import re

import matplotlib.pyplot as plt
import numpy as np
import pytest

from labutils import error_analysis, photos, plots, viz, vocabulary
from labutils.vocabulary import CLASS_NAMES

plt.switch_backend("Agg")  # draw off-screen

MASK = np.array([[0, 1], [2, 1]], dtype=np.uint8)  # pet, background / border, background
IMAGE = np.array([[[10, 20, 30], [40, 50, 60]], [[70, 80, 90], [200, 210, 220]]], dtype=np.uint8)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def legend_labels(fig):
    return [t.get_text() for legend in fig.legends for t in legend.get_texts()]


def test_palette_is_okabe_ito_in_class_order():
    assert vocabulary.CLASS_COLORS == ((213, 94, 0), (0, 114, 178), (240, 228, 66))
    assert len(vocabulary.CLASS_COLORS) == len(CLASS_NAMES) == len(set(vocabulary.CLASS_COLORS))


def test_colorize_mask_paints_each_class_in_its_colour():
    picture = viz.colorize_mask(MASK[..., None])
    assert picture.shape == (2, 2, 3) and picture.dtype == np.uint8
    for (y, x), label in np.ndenumerate(MASK):
        assert tuple(picture[y, x]) == vocabulary.CLASS_COLORS[label]


def test_overlay_with_alpha_one_is_exactly_the_class_colours():
    np.testing.assert_array_equal(viz.overlay_mask(IMAGE, MASK, alpha=1.0), viz.colorize_mask(MASK))


def test_overlay_with_alpha_zero_leaves_the_image_unchanged():
    out = viz.overlay_mask(IMAGE, MASK, alpha=0.0)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, IMAGE)
    floats = IMAGE / 255.0
    np.testing.assert_allclose(viz.overlay_mask(floats, MASK, alpha=0.0), floats, atol=1e-7)


def test_overlay_blends_linearly_and_keeps_float_images_in_unit_range():
    half = viz.overlay_mask(IMAGE, MASK, alpha=0.5)
    # pixel (0, 0): image (10, 20, 30), pet colour (213, 94, 0) -> mean, rounded
    assert tuple(half[0, 0]) == (112, 57, 15)
    as_float = viz.overlay_mask(IMAGE / 255.0, MASK, alpha=1.0)
    assert as_float.dtype == np.float32
    np.testing.assert_allclose(as_float * 255, viz.colorize_mask(MASK), atol=1e-4)


def test_raw_trimap_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="Subtract 1"):
        viz.overlay_mask(IMAGE, MASK + 1)


@pytest.mark.parametrize(
    ("image", "mask", "alpha", "message"),
    [
        (IMAGE, MASK / 2, 0.5, "nearest"),  # bilinear-resized labels like 0.5
        (IMAGE, MASK.astype(int) - 1, 0.5, "0..2"),
        (IMAGE, np.zeros((3, 2), np.uint8), 0.5, "resize them together"),
        (IMAGE.astype(np.float32), MASK, 0.5, "Divide"),  # 0..255 floats
        (IMAGE[..., 0], MASK, 0.5, r"\(H, W, 3\)"),
        (IMAGE, MASK[None], 0.5, r"\(H, W\)"),
        (IMAGE, MASK, 1.5, "alpha"),
    ],
)
def test_bad_input_gets_a_clear_error(image, mask, alpha, message):
    with pytest.raises(ValueError, match=message):
        viz.overlay_mask(image, mask, alpha)


def test_show_overlays_has_image_truth_and_prediction_per_row_and_a_class_legend():
    images, masks = np.stack([IMAGE] * 3), np.stack([MASK[..., None]] * 3)
    fig = viz.show_overlays(images, masks, pred_masks=masks, titles=["a", "b", "c"])
    assert len(fig.axes) == 9
    assert [ax.get_title() for ax in fig.axes[:3]] == ["a", "true mask", "predicted mask"]
    assert legend_labels(fig) == list(CLASS_NAMES)
    assert len(viz.show_overlays(images, masks).axes) == 6


def test_show_overlays_without_truth_shows_photo_and_prediction():
    images, preds = np.stack([IMAGE] * 2), np.stack([MASK] * 2)
    fig = viz.show_overlays(images, pred_masks=preds)
    assert [ax.get_title() for ax in fig.axes] == ["image", "predicted mask"] * 2
    shown = fig.axes[1].get_images()[0].get_array()
    np.testing.assert_array_equal(shown, viz.overlay_mask(IMAGE, MASK))
    assert legend_labels(fig) == list(CLASS_NAMES)


def test_read_photo_reads_rgb_at_its_own_size(tmp_path):
    from PIL import Image

    grey = np.arange(5 * 7, dtype=np.uint8).reshape(5, 7)
    Image.fromarray(grey).save(tmp_path / "grey.png")  # a grayscale photo becomes RGB
    photo = photos.read_photo(tmp_path / "grey.png")
    assert photo.shape == (5, 7, 3) and photo.dtype == np.uint8
    np.testing.assert_array_equal(photo[..., 1], grey)


def test_read_photo_refuses_missing_files_non_images_and_upload_outside_colab(tmp_path):
    with pytest.raises(FileNotFoundError, match="No image file"):
        photos.read_photo(tmp_path / "missing.jpg")
    (tmp_path / "notes.txt").write_text("not a photo")
    with pytest.raises(ValueError, match="not an image"):
        photos.read_photo(tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="Colab"):
        photos.read_photo("upload")


def test_read_photo_uploads_on_colab(monkeypatch):
    import io
    import sys
    import types

    from PIL import Image

    png = io.BytesIO()
    Image.fromarray(IMAGE).save(png, format="PNG")
    files = types.SimpleNamespace(upload=lambda: {"cat.png": png.getvalue()})
    colab = types.SimpleNamespace(files=files)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google", types.SimpleNamespace(colab=colab))
    np.testing.assert_array_equal(photos.read_photo("upload"), IMAGE)
    files.upload = dict  # the user closed the dialog: nothing uploaded
    with pytest.raises(ValueError, match="No file was uploaded"):
        photos.read_photo("upload")


def test_show_overlays_refuses_mismatched_counts():
    with pytest.raises(ValueError, match="one of each"):
        viz.show_overlays(np.stack([IMAGE] * 2), np.stack([MASK] * 3))


def test_show_gallery_takes_images_of_different_sizes():
    images = [IMAGE, np.zeros((5, 7, 3), np.uint8), np.ones((4, 4, 3), np.float32)]
    masks = [MASK, np.zeros((5, 7), np.uint8), np.full((4, 4, 1), 2)]
    fig = viz.show_gallery(images, masks, titles=["x", "y", "z"], cols=2)
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == ["x", "y", "z"]
    assert legend_labels(fig) == list(CLASS_NAMES)
    assert legend_labels(viz.show_gallery(images)) == []


def test_plot_history_draws_train_and_validation_for_each_known_metric():
    class FakeHistory:  # the attribute model.fit's History carries
        history = {
            "loss": [1.0, 0.5],
            "val_loss": [1.1, 0.7],
            "accuracy": [0.6, 0.8],
            "mean_iou": [0.3, 0.5],
            "val_mean_iou": [0.2, 0.4],
            "learning_rate": [1e-3, 1e-3],
        }

    fig = plots.plot_history(FakeHistory())
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy", "mean_iou"]
    labels = [[line.get_label() for line in ax.get_lines()] for ax in fig.axes]
    assert labels == [["train", "validation"], ["train"], ["train", "validation"]]
    np.testing.assert_array_equal(fig.axes[0].get_lines()[1].get_data()[0], [1, 2])


def test_plot_history_refuses_what_it_cannot_plot():
    with pytest.raises(ValueError, match="no loss"):
        plots.plot_history({"learning_rate": [1e-3]})
    with pytest.raises(ValueError, match="History"):
        plots.plot_history([0.5, 0.4])


def test_plot_class_shares_bars_are_percentages_in_class_colours():
    fig = plots.plot_class_shares([30, 60, 10])
    bars = fig.axes[0].patches
    np.testing.assert_allclose([b.get_height() for b in bars], [30, 60, 10])
    for bar, colour in zip(bars, vocabulary.CLASS_COLORS, strict=True):
        np.testing.assert_allclose(bar.get_facecolor()[:3], np.array(colour) / 255)
    with pytest.raises(ValueError, match="3 non-negative"):
        plots.plot_class_shares([1, 2])


def test_plot_image_sizes_counts_every_image():
    fig = plots.plot_image_sizes([100, 200, 300], [150, 200, 150], bins=5)
    assert len(fig.axes) == 2
    aspect_counts = [b.get_height() for b in fig.axes[1].patches]
    assert sum(aspect_counts) == 3
    with pytest.raises(ValueError, match="equally many"):
        plots.plot_image_sizes([100, 200], [100])


def test_plot_species_breeds_counts_and_colours_by_species():
    fig = plots.plot_species_breeds([0, 0, 1, 2], [0, 0, 1, 1], ["Persian", "Boxer", "Pug"])
    species_ax, breeds_ax = fig.axes
    assert [b.get_height() for b in species_ax.patches] == [2, 2]
    assert [b.get_width() for b in breeds_ax.patches] == [2, 1, 1]
    colours = [b.get_facecolor() for b in breeds_ax.patches]
    assert colours[0] != colours[1] and colours[1] == colours[2]
    assert [t.get_text() for t in breeds_ax.get_legend().get_texts()] == ["cat", "dog"]
    with pytest.raises(ValueError, match="labels must be"):
        plots.plot_species_breeds([3], [0], ["Persian", "Boxer", "Pug"])


def test_plot_border_thickness_marks_the_median_and_skips_missing_borders():
    fig = plots.plot_border_thickness([2.0, 3.0, 10.0, np.nan], bins=4, unit="pixels at 64 × 64")
    ax = fig.axes[0]
    assert ax.get_legend().get_texts()[0].get_text() == "median 3.0"
    assert ax.get_xlabel() == "pixels at 64 × 64"
    assert "1 without border" in ax.get_title()
    assert sum(b.get_height() for b in ax.patches) == 3
    with pytest.raises(ValueError, match="at least one finite"):
        plots.plot_border_thickness([np.nan])


# --- evaluation pictures (lesson 06) -----------------------------------------------------------

# truth    prediction   seen from the pet (0): TP at (0, 0); FP at (0, 1); FN at (1, 0);
# 0 1 1    0 0 2        background <-> border at (0, 2) and (1, 2); (1, 1) correct, not pet
# 0 1 2    1 1 1
ERR_TRUE = np.array([[0, 1, 1], [0, 1, 2]])
ERR_PRED = np.array([[0, 0, 2], [1, 1, 1]])
ERR_CODES = np.array([[1, 2, 4], [3, 0, 4]])


def test_error_map_sorts_pixels_as_seen_from_the_target_class():
    np.testing.assert_array_equal(
        error_analysis.error_map(ERR_TRUE, ERR_PRED[..., None]), ERR_CODES
    )
    # seen from the border (2): (0, 2) is a false positive, (1, 2) a false negative
    np.testing.assert_array_equal(
        error_analysis.error_map(ERR_TRUE, ERR_PRED, target_class=2), [[0, 4, 2], [4, 0, 3]]
    )


def test_error_colours_are_distinct_and_painted_where_expected():
    colours = [colour for _, colour in error_analysis.ERROR_KINDS]
    assert len(set(colours)) == len(colours) == 5
    picture = error_analysis.colorize_errors(ERR_CODES)
    assert picture.shape == (2, 3, 3) and picture.dtype == np.uint8
    for (y, x), code in np.ndenumerate(ERR_CODES):
        expected = tuple(int(colours[code][i : i + 2], 16) for i in (1, 3, 5))
        assert tuple(picture[y, x]) == expected


@pytest.mark.parametrize(
    ("pred", "kwargs", "message"),
    [
        (ERR_PRED[:1], {}, "mask is (2, 3) but pred_mask is (1, 3)"),
        (ERR_PRED + 1, {}, "Subtract 1 first"),
        (ERR_PRED, {"target_class": 3}, "target_class must be 0..2"),
    ],
)
def test_error_map_refuses_bad_input(pred, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        error_analysis.error_map(ERR_TRUE, pred, **kwargs)


def test_plot_prediction_errors_shows_four_panels_scores_and_both_legends():
    image = np.zeros((2, 3, 3))
    fig = error_analysis.plot_prediction_errors(image, ERR_TRUE, ERR_PRED, title="image 7")
    assert [ax.get_title() for ax in fig.axes] == [
        "image", "true mask", "predicted mask", "errors (seen from the pet class)"
    ]  # fmt: skip
    # IoU: pet 1/3, background 1/5, border 0 -> mean 0.178
    assert fig.get_suptitle() == (
        "image 7 · mean IoU 0.178   (pet 0.333 · background 0.200 · border 0.000)"
    )
    np.testing.assert_array_equal(
        fig.axes[3].images[0].get_array(), error_analysis.colorize_errors(ERR_CODES)
    )
    labels = legend_labels(fig)
    assert labels[:3] == list(CLASS_NAMES)
    assert "false negative: pet missed" in labels and "background ↔ border confused" in labels


def test_plot_prediction_errors_marks_a_class_without_iou():
    mask = np.ones((2, 2), int)  # background only, predicted perfectly
    fig = error_analysis.plot_prediction_errors(np.zeros((2, 2, 3)), mask, mask)
    assert fig.get_suptitle() == "mean IoU 1.000   (pet – · background 1.000 · border –)"


def test_plot_confusion_matrix_rows_are_recalls():
    cm = np.array([[8, 2, 0], [1, 1, 2], [0, 0, 5]])
    fig = error_analysis.plot_confusion_matrix(cm)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["80.0%", "20.0%", "0.0%", "25.0%", "25.0%", "50.0%", "0.0%", "0.0%", "100.0%"]
    assert "recall" in fig.axes[0].get_title()
    assert [t.get_text() for t in error_analysis.plot_confusion_matrix(cm, False).axes[0].texts][
        0
    ] == "8"
    with pytest.raises(ValueError, match="expected a"):
        error_analysis.plot_confusion_matrix(np.ones((2, 2)))


def test_plot_iou_histogram_counts_every_finite_image_and_marks_mean_and_median():
    fig = error_analysis.plot_iou_histogram([0.2, 0.5, 0.9, np.nan])
    ax = fig.axes[0]
    assert sum(patch.get_height() for patch in ax.patches) == 3
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["mean 0.533", "median 0.500"]
    assert "3 images" in ax.get_title()
    with pytest.raises(ValueError, match=r"need IoUs in \[0, 1\]"):
        error_analysis.plot_iou_histogram([1.5])
