"""Backtest results -> Markdown, plain text and rich tables. No maths here, only layout."""

from __future__ import annotations

from forecast_cli.metrics import CLASS_METRICS, METRICS


def recipe_line(manifest) -> str:
    """One line on what the automatic options chose: "norm: seasonal (season 12; seasonal naive beat naive
    on validation, MASE 0.61 vs 1.02); window 24 (two seasons of 12)"."""
    data, choices = manifest.configs.data, manifest.choices
    why = choices.get("norm", {}).get("reason")
    inside = "; ".join(part for part in (f"season {data.season}" if data.norm == "seasonal" else "", why) if part)
    window = choices.get("window", {}).get("reason")
    return (f"norm: {data.norm}" + (f" ({inside})" if inside else "") + f"; window {data.window}"
            + (f" ({window})" if window else "") + calendar_note(choices))


def calendar_note(choices: dict) -> str:
    """'; calendar: dayofyear left out: ...' when --calendar auto left a part out, else nothing."""
    calendar = choices.get("calendar", {})
    return f"; calendar: {calendar['reason']}" if calendar.get("left_out") else ""


def _cell(value: float | None) -> str:
    """4 decimals, or thousands grouped; 4 significant digits for magnitudes where those say nothing
    (an error of 3e-300 is not 0.0000) or run to hundreds of digits (3e+300)."""
    if value is None:
        return "-"
    if value != 0 and not 1e-3 <= abs(value) < 1e15:
        return f"{value:.4g}"
    return f"{value:.4f}" if abs(value) < 1000 else f"{value:,.1f}"


def metric_names(result: dict) -> tuple[str, ...]:
    """The measures a result holds: forecast errors, or a classifier's scores."""
    return CLASS_METRICS if result.get("task") == "classify" else METRICS


def rows(result: dict) -> list[tuple[str, list[str]]]:
    """(name, cells) for the model and each baseline, in metric_names order."""
    names = metric_names(result)
    table = [("model", [_cell(result["metrics"][m]) for m in names])]
    for name, scores in result["baselines"].items():
        table.append((name, [_cell(scores[m]) for m in names]))
    return table


def markdown(result: dict, title: str = "Backtest", part: str = "this backtest") -> str:
    """A Markdown report: overall metrics beside the baselines, a line when a baseline beats the model
    (on `part`), then per horizon step (or the confusion matrix)."""
    if result.get("task") == "classify":
        return class_markdown(result, title)
    lines = [f"# {title}", "",
             f"{result['windows']} forecast origins, horizon {result['horizon']}; "
             f"mape is the mean relative error |ŷ−y|/|y| (points with y = 0 excluded: "
             f"{result['excluded_zero_targets']}).", "",
             "| forecaster | " + " | ".join(METRICS) + " |", "|---" * (len(METRICS) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows(result)]
    verdict = verdict_line(result, part)
    if verdict:
        lines += ["", verdict[0].upper() + verdict[1:]]
    lines += quantile_lines(result)
    if "aggregate" in result:
        lines += ["", *series_lines(result)]
    if "statistical" in result:
        lines += ["", statistical_line(result["statistical"])]
    if result["horizon"] > 1:
        lines += ["", "| step | " + " | ".join(METRICS) + " |", "|---" * (len(METRICS) + 1) + "|"]
        lines += [f"| {s['step']} | " + " | ".join(_cell(s[m]) for m in METRICS) + " |" for s in result["per_step"]]
    return "\n".join(lines) + "\n"


def quantile_lines(result: dict) -> list[str]:
    """Markdown lines for a quantile forecaster: each level's pinball loss and share of actual values
    under it, then each interval's coverage beside its nominal share; none without quantiles."""
    if not result.get("quantiles"):
        return []
    lines = ["", f"Quantiles (the point forecast above is {result['point_quantile']}); `below` is the share of "
             "actual values at or under the forecast, ideally the level:", "",
             "| quantile | level | pinball | below |", "|---|---|---|---|"]
    lines += [f"| {name} | {q['level']:g} | {_cell(q['pinball'])} | {_cell(q['below'])} |"
              for name, q in result["quantiles"].items()]
    if result.get("intervals"):
        lines += ["", "| interval | nominal | coverage | mean width |", "|---|---|---|---|"]
        lines += [f"| {i['lower']:g}–{i['upper']:g} | {i['nominal']:g} | {_cell(i['coverage'])} | "
                  f"{_cell(i['mean_width'])} |" for i in result["intervals"]]
    return lines


def interval_line(result: dict) -> str | None:
    """One line on the outermost interval's coverage, for the fit summary; None without intervals."""
    if not result.get("intervals"):
        return None
    outer = result["intervals"][0]
    return (f"{outer['lower']:g}–{outer['upper']:g} interval: test coverage {_cell(outer['coverage'])} "
            f"(nominal {outer['nominal']:g}), mean width {_cell(outer['mean_width'])}")


WORST_SHOWN = 5


def series_lines(result: dict) -> list[str]:
    """A many-series result in words: the metrics above are means over series; the median, how often
    the model beats each baseline, and the worst series by MASE."""
    aggregate = result["aggregate"]
    median = aggregate["median"].get("mase")
    shares = ", ".join(f"{BASELINE_NAMES.get(name, name)} on {share:.0%}"
                       for name, share in aggregate["share_beating"].items() if share is not None)
    lines = [f"The rows above are means over {aggregate['series']:,} series; median mase {_cell(median)}."]
    if shares:
        lines.append(f"The model beats {shares} of the series (by mase).")
    scored = [(name, r["metrics"]["mase"]) for name, r in result["series"].items() if r["metrics"]["mase"] is not None]
    worst = sorted(scored, key=lambda item: -item[1])[:WORST_SHOWN]
    if worst:
        lines += ["", "| worst series | mase | naive mase |", "|---|---|---|"]
        lines += [f"| {name} | {_cell(mase)} | {_cell(result['series'][name]['baselines']['naive']['mase'])} |"
                  for name, mase in worst]
    return lines


def statistical_line(entry: dict) -> str:
    """How AutoETS, AutoARIMA and AutoTheta were scored (stats_baselines.py), in one line."""
    where = "every origin" if entry["every"] == 1 else f"every {entry['every']}th origin ({entry['origins']})"
    model = entry["model_on_these_origins"].get("mase")
    mine = f"; the model's mase there {_cell(model)}" if entry["every"] > 1 else ""
    failed = f"; not scored: {', '.join(entry['failed'])}" if entry["failed"] else ""
    return (f"AutoETS, AutoARIMA and AutoTheta ({entry['library']}, season {entry['season']}): fitted once on the data "
            f"before the first origin, rolled forward without refitting, scored on {where}{mine}{failed}.")


def csv_text(result: dict) -> str:
    """The model and each baseline, one row each, the metrics as columns (full precision; blank where
    undefined). Per-step scores and a classifier's confusion matrix are in the JSON."""
    names = metric_names(result)
    first = "classifier" if result.get("task") == "classify" else "forecaster"
    scored = [("model", result["metrics"]), *result["baselines"].items()]
    lines = [",".join([first, *names])]
    lines += [",".join([name, *("" if scores[m] is None else repr(float(scores[m])) for m in names)])
              for name, scores in scored]
    return "\n".join(lines) + "\n"


def class_markdown(result: dict, title: str) -> str:
    """A classifier's report: scores beside the majority and persistence baselines, then the confusion matrix."""
    classes = [str(c) for c in result["classes"]]
    lines = [f"# {title}", "",
             f"{result['windows']} windows, each labelled by {result['label']!r} {result['horizon']} row(s) after "
             "its last; majority = the most frequent training label, persistence = the last observed label.", "",
             "| classifier | " + " | ".join(CLASS_METRICS) + " |", "|---" * (len(CLASS_METRICS) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows(result)]
    lines += ["", "Confusion matrix (rows: actual, columns: predicted):", "",
              "| actual | " + " | ".join(classes) + " |", "|---" * (len(classes) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(map(str, counts)) + " |"
              for name, counts in zip(classes, result["confusion_matrix"])]
    return "\n".join(lines) + "\n"


def rich_table(result: dict, title: str):
    """A rich Table of the model against its baselines, for a terminal (a classifier's with its confusion matrix)."""
    from rich.console import Group
    from rich.table import Table

    table = Table(title=title)
    table.add_column("classifier" if result.get("task") == "classify" else "forecaster")
    for metric in metric_names(result):
        table.add_column(metric, justify="right")
    for name, cells in rows(result):
        table.add_row(name, *cells)
    if result.get("task") != "classify" and result.get("intervals"):
        intervals = Table(title=f"intervals (point forecast: {result['point_quantile']})")
        for column in ("interval", "nominal", "coverage", "mean width"):
            intervals.add_column(column, justify="right")
        for i in result["intervals"]:
            intervals.add_row(f"{i['lower']:g}–{i['upper']:g}", f"{i['nominal']:g}", _cell(i["coverage"]),
                              _cell(i["mean_width"]))
        return Group(table, intervals)
    if result.get("task") != "classify":
        return table
    confusion = Table(title="confusion matrix (rows: actual, columns: predicted)")
    confusion.add_column("actual")
    for name in result["classes"]:
        confusion.add_column(str(name), justify="right")
    for name, counts in zip(result["classes"], result["confusion_matrix"]):
        confusion.add_row(str(name), *map(str, counts))
    return Group(table, confusion)


BASELINE_NAMES = {"naive": "naive", "seasonal_naive": "seasonal naive", "linear": "linear"}
NAIVE_BASELINES = ("naive", "seasonal_naive")  # the free ones: "the better baseline" is the better of these


def baseline_mase(result: dict, name: str) -> float | None:
    """A baseline's MASE in a forecast result, None where it is absent or undefined."""
    return (result["baselines"].get(name) or {}).get("mase")


def best_baseline(result: dict, names: tuple[str, ...] = NAIVE_BASELINES) -> str | None:
    """The baseline among `names` with the lowest defined MASE (the first on a tie), or None."""
    scored = [(baseline_mase(result, name), name) for name in names if baseline_mase(result, name) is not None]
    return min(scored, key=lambda pair: pair[0])[1] if scored else None


def summary_line(result: dict) -> str:
    """One line: the model's test MASE beside the better of naive and seasonal naive (named as such),
    then the other baselines; mape where MASE is undefined. A classifier's: accuracy beside its baselines."""
    if result.get("task") == "classify":
        scores, baselines = result["metrics"], result["baselines"]
        return (f"test accuracy {_cell(scores['accuracy'])} vs majority {_cell(baselines['majority']['accuracy'])}, "
                f"persistence {_cell(baselines['persistence']['accuracy'])} over {result['windows']} windows, "
                f"label {result['horizon']} step(s) ahead")
    where = f"over {result['windows']} windows, horizon {result['horizon']}"
    best = best_baseline(result)
    if result["metrics"]["mase"] is None or best is None:
        model, naive = result["metrics"]["mape"], result["baselines"]["naive"]["mape"]
        return f"test relative error (mape) {_cell(model)} vs naive {_cell(naive)} {where}"
    others = [f"{BASELINE_NAMES.get(name, name)} {_cell(baseline_mase(result, name))}" for name in result["baselines"]
              if name != best and baseline_mase(result, name) is not None]
    better = " (the better baseline)" if all(baseline_mase(result, name) is not None for name in NAIVE_BASELINES) else ""
    listed = (", " + ", ".join(others[:-1]) + " and " + others[-1] if len(others) > 1
              else " and " + others[0] if others else "")
    return (f"test mase {_cell(result['metrics']['mase'])} vs {BASELINE_NAMES[best]} "
            f"{_cell(baseline_mase(result, best))}{better}{listed} {where}")


def verdict_line(result: dict, part: str = "the test part") -> str | None:
    """One line when a baseline beats the model on MASE (the lowest-scoring baseline named), else None."""
    if result.get("task") == "classify" or result["metrics"].get("mase") is None:
        return None
    best = best_baseline(result, tuple(result["baselines"]))
    model = result["metrics"]["mase"]
    if best is None or baseline_mase(result, best) >= model:
        return None
    return (f"the model is worse than {BASELINE_NAMES.get(best, best)} on {part} (mase {_cell(model)} vs "
            f"{_cell(baseline_mase(result, best))}); the baseline is the better answer here.")
