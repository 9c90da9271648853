"""Many series in one long-format file (--id-col): one global model, each series split and normalized
on its own, per-series forecasts and backtests with their aggregate, and the side file that holds
the per-series statistics, checked as strictly as the manifest."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import (LONG_SERIES as SERIES, assert_batched_forecasts_are_each_series_own,
                      make_long_frame as long_frame, run_cli)

TINY = ["--epochs", "2", "--hidden", "4", "--window", "7", "--quiet"]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> tuple[Path, Path, str]:
    folder = tmp_path_factory.mktemp("many")
    csv = folder / "long.csv"
    frame = long_frame()
    short = pd.DataFrame({"store": "tiny", "date": pd.date_range("2022-01-03", periods=6, freq="D"), "sales": 1.0})
    pd.concat([frame, short]).to_csv(csv, index=False, date_format="%Y-%m-%d")
    model = folder / "model"
    result = run_cli("fit", csv, "--target", "sales", "--id-col", "store", "--model", model,
                     *[t for t in TINY if t != "--quiet"])
    assert result.exit_code == 0, result.output
    return csv, model, result.stderr


def test_fit_skips_series_too_short_with_one_warning_and_saves_each_series_statistics(fitted):
    _, model, stderr = fitted
    assert stderr.count("skipped 1 of 5 series") == 1
    manifest = json.loads((model / "manifest.json").read_text())
    assert manifest["series"]["count"] == 4 and manifest["series"]["skipped"] == 1
    assert manifest["config"]["data"]["id_col"] == ["store"]
    from safetensors.numpy import load_file

    stats = load_file(model / "series.safetensors")
    # sales, then the calendar's day-of-week pair: auto leaves day of year out of a few months of data
    assert stats["mean"].shape == (4, 1 + 2)
    assert manifest["config"]["data"]["calendar"] == "dayofweek"
    assert manifest["choices"]["calendar"]["left_out"] == ["dayofyear"]
    assert np.argsort(stats["mean"][:, 0]).tolist() == [0, 1, 2, 3]  # a < b < c < d by level, each its own


def test_predict_forecasts_every_series_after_its_own_last_row(fitted):
    csv, model, _ = fitted
    result = run_cli("predict", "--model", model)
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(StringIO(result.stdout))
    assert list(table.columns) == ["store", "timestamp", "step", "sales"]
    assert sorted(table["store"].unique()) == list(SERIES)  # "tiny" was skipped at fit: no statistics
    last = pd.read_csv(csv).groupby("store")["date"].max()
    for store in SERIES:
        expected = (pd.Timestamp(last[store]) + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
        assert table.loc[table["store"] == store, "timestamp"].iloc[0] == expected
    levels = table.groupby("store")["sales"].mean()
    assert (np.diff(np.log10(levels[list(SERIES)].to_numpy())) > 0.5).all()  # back in each series' own units


def test_predict_ids_picks_series_and_an_unknown_one_is_one_line(fitted):
    _, model, _ = fitted
    chosen = run_cli("predict", "--model", model, "--ids", "c,a")
    assert chosen.exit_code == 0
    assert pd.read_csv(StringIO(chosen.stdout))["store"].tolist() == ["c", "a"]
    unknown = run_cli("predict", "--model", model, "--ids", "zz")
    assert unknown.exit_code != 0
    assert unknown.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "'zz'" in unknown.stderr and "Traceback" not in unknown.stderr


def test_batched_forecasts_equal_each_series_own_predictor(fitted):
    """predict runs all series' last windows in shared batches; evaluate scores through one predictor
    per series: both must give the same numbers."""
    csv, model, _ = fitted
    assert_batched_forecasts_are_each_series_own(csv, model)


def test_row_order_does_not_change_the_forecasts(fitted, tmp_path):
    csv, model, _ = fitted
    ordered = tmp_path / "ordered.csv"
    pd.read_csv(csv).sort_values(["store", "date"]).to_csv(ordered, index=False)
    first = run_cli("predict", csv, "--model", model)
    second = run_cli("predict", ordered, "--model", model)
    assert first.stdout == second.stdout


def test_evaluate_json_gives_each_series_and_the_aggregate(fitted):
    _, model, _ = fitted
    result = run_cli("evaluate", "--model", model, "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert sorted(report["series"]) == list(SERIES)
    for scores in report["series"].values():
        assert {"naive", "seasonal_naive"} <= set(scores["baselines"])
    aggregate = report["aggregate"]
    mases = [s["metrics"]["mase"] for s in report["series"].values()]
    assert aggregate["median"]["mase"] == pytest.approx(float(np.median(mases)))
    beaten = np.mean([s["metrics"]["mase"] < s["baselines"]["naive"]["mase"] for s in report["series"].values()])
    assert aggregate["share_beating"]["naive"] == pytest.approx(beaten)


@pytest.mark.parametrize("backend", ["loky", "threading"])
def test_evaluate_on_two_workers_scores_the_same_as_one(fitted, backend):
    import forecast_cli

    _, model, _ = fitted
    loaded = forecast_cli.load(model, warn=lambda message: None)
    one = loaded.evaluate()
    two = loaded.evaluate(n_jobs=2, backend=backend)
    assert two["series"] == one["series"]


def test_text_report_shows_the_aggregate_and_the_worst_series(fitted):
    _, model, _ = fitted
    result = run_cli("evaluate", "--model", model, "--format", "markdown")
    assert "means over 4 series" in result.stdout
    assert "| worst series | mase | naive mase |" in result.stdout


def test_a_series_file_from_another_model_is_refused(fitted, tmp_path):
    import shutil

    _, model, _ = fitted
    copy = Path(shutil.copytree(model, tmp_path / "copy"))
    data = bytearray((copy / "series.safetensors").read_bytes())
    data[-1] ^= 1
    (copy / "series.safetensors").write_bytes(bytes(data))
    result = run_cli("predict", "--model", copy)
    assert result.exit_code != 0
    assert "series.safetensors" in result.stderr and "sha256" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("edit, message", [
    (lambda f: f.assign(store=f["store"].where(f.index != 3, None)), "has no value in id column(s) 'store'"),
    (lambda f: pd.concat([f, f.iloc[[0]]]), "more than once"),
])
def test_long_format_faults_are_one_line(tmp_path, edit, message):
    csv = tmp_path / "bad.csv"
    edit(long_frame()).to_csv(csv, index=False, date_format="%Y-%m-%d")
    result = run_cli("fit", csv, "--target", "sales", "--id-col", "store", "--model", tmp_path / "m", *TINY)
    assert result.exit_code != 0
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "m").exists()


def test_several_id_columns_come_back_as_columns(tmp_path):
    frame = long_frame()
    frame["region"] = np.where(frame["store"].isin(["a", "b"]), "north", "south")
    csv = tmp_path / "two.csv"
    frame.to_csv(csv, index=False, date_format="%Y-%m-%d")
    fitted = run_cli("fit", csv, "--target", "sales", "--id-col", "region,store", "--model", tmp_path / "m", *TINY)
    assert fitted.exit_code == 0, fitted.stderr
    table = pd.read_csv(StringIO(run_cli("predict", "--model", tmp_path / "m", "--ids", "south/c").stdout))
    assert list(table.columns[:2]) == ["region", "store"]
    assert table[["region", "store"]].drop_duplicates().values.tolist() == [["south", "c"]]


def test_id_col_with_a_classifier_is_refused(tmp_path):
    csv = tmp_path / "long.csv"
    long_frame().to_csv(csv, index=False)
    result = run_cli("fit", csv, "--target", "sales", "--id-col", "store", "--task", "classify", "--model",
                     tmp_path / "m", *TINY)
    assert result.exit_code != 0 and "--id-col" in result.stderr


def test_python_api_fits_a_dataframe_with_an_id_column():
    import forecast_cli

    model = forecast_cli.fit(long_frame(), target="sales", id_col="store", epochs=1, hidden=4, window=7,
                             warn=lambda message: None)
    forecast = model.predict()
    assert list(forecast.columns) == ["store", "timestamp", "step", "sales"]
    assert model.report["aggregate"]["series"] == 4


def test_plot_draws_a_grid_of_the_chosen_series(fitted, tmp_path):
    _, model, _ = fitted
    result = run_cli("plot", "--model", model, "--ids", "a,c", "--out", tmp_path / "grid.png", "--quiet")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "grid.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    one_series = run_cli("plot", "--model", model, "--ids", "nope", "--out", tmp_path / "x.png", "--quiet")
    assert one_series.exit_code != 0 and "'nope'" in one_series.stderr


def test_a_manifest_from_before_an_option_existed_loads_with_its_default(fitted, tmp_path):
    import shutil

    _, model, _ = fitted
    copy = Path(shutil.copytree(model, tmp_path / "old"))
    manifest = json.loads((copy / "manifest.json").read_text())
    del manifest["config"]["train"]["epoch_size"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert run_cli("predict", "--model", copy).exit_code == 0


def test_parquet_input_reads_like_the_same_table_as_csv(fitted, tmp_path):
    pytest.importorskip("pyarrow")
    csv, model, _ = fitted
    parquet = tmp_path / "long.data"  # the format is told by its magic bytes, not the name
    pd.read_csv(csv).to_parquet(parquet)
    from_csv = run_cli("predict", csv, "--model", model)
    from_parquet = run_cli("predict", parquet, "--model", model)
    assert from_parquet.exit_code == 0, from_parquet.stderr
    assert from_parquet.stdout == from_csv.stdout


def test_id_col_on_predict_evaluate_and_plot_is_checked_against_the_model(fitted, tmp_path):
    csv, model, _ = fitted
    assert run_cli("predict", "--model", model, "--id-col", "store").exit_code == 0
    assert run_cli("evaluate", "--model", model, "--id-col", "store", "--json").exit_code == 0
    wrong = run_cli("predict", "--model", model, "--id-col", "region")
    assert wrong.exit_code != 0
    assert "fitted with --id-col store" in wrong.stderr and "Traceback" not in wrong.stderr
    plotted = run_cli("plot", "--model", model, "--id-col", "sales", "--out", tmp_path / "x.png")
    assert plotted.exit_code != 0 and "--id-col" in plotted.stderr
