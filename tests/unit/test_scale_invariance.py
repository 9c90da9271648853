"""The unit of the data does not change the model: the same series times 1e-300 or 1e+300 gives the same
fit, test scores and forecasts, up to that factor (float32 tolerance)."""

import numpy as np
import pytest
from conftest import make_tiny_frame



def _fit_and_forecast(tmp_path, factor: float):
    import forecast_cli

    raw = make_tiny_frame(120)
    raw[["sales", "temp"]] = raw[["sales", "temp"]] * factor
    data = tmp_path / f"scaled_{factor:g}.csv"
    raw.to_csv(data, index=False)
    warnings: list[str] = []
    model = forecast_cli.fit(str(data), target="sales", window=10, horizon=3, hidden=8, epochs=3, batch_size=32,
                             device="cpu", seed=0, out=tmp_path / f"model_{factor:g}", warn=warnings.append)
    reloaded = forecast_cli.load(tmp_path / f"model_{factor:g}", warn=lambda note: None)
    notes = [str(note).replace(str(data), "DATA").replace(data.name, "DATA") for note in warnings]
    return model, notes, reloaded.predict(str(data))["sales"].to_numpy()


@pytest.fixture(scope="module")
def unit_scale(tmp_path_factory):
    return _fit_and_forecast(tmp_path_factory.mktemp("unit"), 1.0)


@pytest.mark.parametrize("factor", [1e-300, 1e300])
def test_the_same_series_in_another_unit_gives_the_same_forecasts(unit_scale, tmp_path, factor):
    base, base_warnings, base_forecast = unit_scale
    scaled, warnings, forecast = _fit_and_forecast(tmp_path, factor)
    assert warnings == base_warnings  # no input lost to the leak guard, nothing refused
    assert scaled.manifest.frame.input_columns == ["sales", "temp"]
    np.testing.assert_allclose(forecast / factor, base_forecast, rtol=1e-5)
    np.testing.assert_allclose(scaled.report["metrics"]["mape"], base.report["metrics"]["mape"], rtol=1e-5)
    for metric in ("mae", "rmse"):
        np.testing.assert_allclose(scaled.report["metrics"][metric] / factor, base.report["metrics"][metric],
                                   rtol=1e-5)


@pytest.mark.parametrize("factor", [1e-300, 1.0, 1e300])
def test_column_statistics_do_not_underflow_or_overflow(factor):
    from forecast_cli.data.windows import column_statistics

    values = np.array([[1.0, 5.0], [2.0, 5.0], [4.0, 5.0]]) * factor
    mean, scale = column_statistics(values)
    np.testing.assert_allclose(mean / factor, [7 / 3, 5.0], rtol=1e-12)
    np.testing.assert_allclose(scale / factor, [np.std([1.0, 2.0, 4.0]), 0.0], rtol=1e-12, atol=0)


def test_values_whose_differences_would_overflow_are_refused():
    from forecast_cli.data.windows import column_statistics

    mean, scale = column_statistics(np.array([[1e308, 1.0], [-1e308, 2.0]]))
    assert np.isinf(mean[0]) and np.isinf(scale[0]) and np.isfinite(scale[1])


@pytest.mark.parametrize("value, text", [(3.25e-300, "3.25e-300"), (3.25e300, "3.25e+300"), (0.0, "0.0000"),
                                         (0.01234, "0.0123"), (12345.678, "12,345.7")])
def test_report_cells_show_tiny_and_huge_errors(value, text):
    from forecast_cli.report import _cell

    assert _cell(value) == text


def test_the_leak_guard_has_no_absolute_tolerance():
    """With np.isclose's default atol 1e-8, any two columns of values near 1e-9 were 'equal'."""
    from forecast_cli.data import leaks

    rng = np.random.default_rng(0)
    values = rng.normal(size=(50, 3))
    values[:-1, 2] = values[1:, 0]  # column 2 is the target one row later: a leak in any unit
    values[-1, 2] = np.nan
    names, shifts = ["target", "other", "copy"], np.array([1, 1, 1])
    unit = leaks.find_leaks(names, values, shifts, [])
    assert list(unit) == ["copy"]
    assert leaks.find_leaks(names, values * 1e-9, shifts, []) == unit
