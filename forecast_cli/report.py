"""Backtest results -> Markdown, plain text and rich tables. No maths here, only layout."""

from __future__ import annotations

from forecast_cli.metrics import METRICS


def _cell(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if abs(value) < 1000 else f"{value:,.1f}"


def rows(result: dict) -> list[tuple[str, list[str]]]:
    """(name, cells) for the model and each baseline, in METRICS order."""
    table = [("model", [_cell(result["metrics"][m]) for m in METRICS])]
    for name, scores in result["baselines"].items():
        table.append((name, [_cell(scores[m]) for m in METRICS]))
    return table


def markdown(result: dict, title: str = "Backtest") -> str:
    """A Markdown report: overall metrics beside the baselines, then per horizon step."""
    lines = [f"# {title}", "",
             f"{result['windows']} forecast origins, horizon {result['horizon']}; "
             f"mape is the mean relative error |ŷ−y|/|y| (points with y = 0 excluded: "
             f"{result['excluded_zero_targets']}).", "",
             "| forecaster | " + " | ".join(METRICS) + " |", "|---" * (len(METRICS) + 1) + "|"]
    lines += [f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows(result)]
    if result["horizon"] > 1:
        lines += ["", "| step | " + " | ".join(METRICS) + " |", "|---" * (len(METRICS) + 1) + "|"]
        lines += [f"| {s['step']} | " + " | ".join(_cell(s[m]) for m in METRICS) + " |" for s in result["per_step"]]
    return "\n".join(lines) + "\n"


def rich_table(result: dict, title: str):
    """A rich Table of the model against its baselines, for a terminal."""
    from rich.table import Table

    table = Table(title=title)
    table.add_column("forecaster")
    for metric in METRICS:
        table.add_column(metric, justify="right")
    for name, cells in rows(result):
        table.add_row(name, *cells)
    return table


def summary_line(result: dict) -> str:
    """One line: the model's relative error beside the naive baseline's."""
    model, naive = result["metrics"]["mape"], result["baselines"]["naive"]["mape"]
    return (f"test relative error (mape) {_cell(model)} vs naive {_cell(naive)} "
            f"over {result['windows']} windows, horizon {result['horizon']}")
