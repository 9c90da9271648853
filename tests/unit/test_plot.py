"""What the plot shows: an overview, a close-up of the recent rows with the backtest and the forecast
ahead, labels that say what each line is and which mape it carries, whole-number epochs with the best
one marked; written as PNG, SVG or PDF by the file name."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from conftest import TINY_HORIZON, TINY_WINDOW  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

import forecast_cli  # noqa: E402
from forecast_cli import plot as plot_module  # noqa: E402
from forecast_cli.cli.app import app  # noqa: E402


@pytest.fixture(scope="module")
def drawn(fitted, tmp_path_factory):
    """The figure `Model.plot` draws for the session model (kept instead of saved) and the numbers behind it."""
    figures = []
    original = plot_module.save_figure
    plot_module.save_figure = lambda figure, out: figures.append(figure)
    try:
        model = forecast_cli.load(fitted.model_dir, warn=lambda note: None)
        model.plot(tmp_path_factory.mktemp("plot") / "p.png")
    finally:
        plot_module.save_figure = original
    yield figures[0], model, model.evaluate()
    plt.close(figures[0])


def _labels(axis) -> list[str]:
    return [text.get_text() for text in axis.get_legend().get_texts()]


def test_three_panels_overview_close_up_and_losses(drawn):
    figure, _, _ = drawn
    assert len(figure.axes) == 3


def test_the_step_one_line_is_labelled_with_its_own_step_one_mape(drawn):
    figure, _, result = drawn
    step_one = result["per_step"][0]["mape"]
    assert step_one != pytest.approx(result["metrics"]["mape"])  # the premise: a 3-step model's two mapes differ
    expected = f"step-1 forecast from each origin (step-1 mape {step_one:.4f})"
    assert expected in _labels(figure.axes[0]) and expected in _labels(figure.axes[1])


def test_the_overall_mape_is_called_the_mean_over_the_horizon_steps(drawn):
    figure, _, result = drawn
    title = figure.axes[1].get_title()
    assert (f"backtest from {result['windows']} origins: mape {result['metrics']['mape']:.4f} (mean over the "
            f"{TINY_HORIZON} steps), naive {result['baselines']['naive']['mape']:.4f}") in title


def test_the_close_up_spans_the_last_windows_and_the_forecast_ahead(drawn, fitted):
    figure, model, _ = drawn
    close = figure.axes[1]
    actual = next(line for line in close.get_lines() if line.get_label() == "actual")
    assert len(actual.get_xdata()) == 3 * TINY_WINDOW
    ahead = next(line for line in close.get_lines() if line.get_label().startswith("forecast ahead"))
    stamps = pd.to_datetime(model.predict()["timestamp"])
    assert list(pd.to_datetime(ahead.get_xdata()[1:])) == list(stamps)  # from the last actual value on
    last_origin = next(line for line in close.get_lines() if line.get_label().startswith(f"{TINY_HORIZON}-step"))
    assert len(last_origin.get_xdata()) == TINY_HORIZON


def test_the_loss_panel_has_whole_epochs_and_marks_the_best_one(drawn):
    figure, model, _ = drawn
    losses = figure.axes[2]
    best = model.manifest.training.best_epoch
    marker = next(line for line in losses.get_lines() if line.get_label() == f"best epoch {best} (weights kept)")
    assert list(marker.get_xdata()) == [best]
    ticks = [tick for tick in losses.get_xticks() if losses.get_xlim()[0] <= tick <= losses.get_xlim()[1]]
    assert ticks and all(float(tick).is_integer() for tick in ticks)


def test_a_wide_loss_range_gets_a_log_axis_with_plain_labels():
    figure, axis = plt.subplots()
    history = [{"epoch": str(e), "train_loss": str(10.0 ** -e), "val_loss": str(2 * 10.0 ** -e)} for e in range(1, 5)]
    plot_module._draw_losses(axis, plot_module.Curves(history, best_epoch=4))
    assert axis.get_yscale() == "log"
    formatter = axis.yaxis.get_major_formatter()
    assert formatter(0.002, 0) == "0.002" and formatter(0.05, 0) == "0.05"
    plt.close(figure)


def test_a_narrow_loss_range_stays_linear():
    figure, axis = plt.subplots()
    history = [{"epoch": str(e), "train_loss": str(0.02 - e / 1000), "val_loss": ""} for e in range(1, 6)]
    plot_module._draw_losses(axis, plot_module.Curves(history, best_epoch=5))
    assert axis.get_yscale() == "linear"
    plt.close(figure)


@pytest.mark.parametrize("name, magic", [("p.png", b"\x89PNG"), ("p.svg", b"<?xml"), ("p.PDF", b"%PDF")])
@pytest.mark.parametrize("option", ["-o", "--out", "--output"])
def test_plot_writes_the_format_its_name_says(fitted, tmp_path, name, magic, option):
    result = CliRunner().invoke(app, ["plot", "--model", str(fitted.model_dir), option, str(tmp_path / name), "-q"])
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / name).read_bytes().startswith(magic)


def test_plot_refuses_another_extension_in_one_line(fitted, tmp_path):
    out = tmp_path / "p.jpg"
    result = CliRunner().invoke(app, ["plot", "--model", str(fitted.model_dir), "-o", str(out)])
    assert result.exit_code == 2
    assert result.stderr == (f"error: --out {out}: plots are written as PNG, SVG or PDF; use a name ending in "
                             ".png, .svg or .pdf.\n")
    assert list(tmp_path.iterdir()) == []


def test_overview_shades_the_close_up_range(drawn):
    figure, _, _ = drawn
    assert "close-up below" in _labels(figure.axes[0])
    assert np.isfinite(figure.axes[0].get_xlim()).all()
