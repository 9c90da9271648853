"""Writing results where the user asked: stdout (data only) or files (written atomically).

Rich is used for terminal tables only; CSV and JSON go to stdout directly.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from forecast_cli.errors import ConfigError
from forecast_cli.store.atomic import write_text

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP: what makes a spreadsheet read a cell as a formula


def write_forecast(forecast, output: str, fmt: str) -> None:
    """CSV (`timestamp,step,<target>`, or a classifier's `timestamp,step,class,p_<class>...`) or JSON
    records, to stdout (`-`) or a file. A classifier's table carries its label name and classes in `attrs`.
    Numbers keep every digit in both (see number_text); JSON has null where a value is not finite."""
    if fmt == "json":
        records = [{key: _json_value(value) for key, value in record.items()}
                   for record in forecast.to_dict(orient="records")]
        header = {"target": forecast.attrs.get("target", forecast.columns[-1])}
        if "classes" in forecast.attrs:
            header["classes"] = forecast.attrs["classes"]
        text = json.dumps({**header, "forecast": records}, indent=2) + "\n"
    else:
        text = csv_text(forecast)
    if output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_text(Path(output), text)


def csv_text(table) -> str:
    """A DataFrame as CSV text: floats in full (number_text), text cells and names spreadsheet-safe."""
    import pandas as pd

    cells = {}
    for position, (_, column) in enumerate(table.items()):
        if pd.api.types.is_float_dtype(column):
            cells[position] = column.map(number_text)
        elif pd.api.types.is_numeric_dtype(column):  # integers and booleans: no sign of a formula
            cells[position] = column
        else:
            cells[position] = column.map(lambda value: "" if pd.isna(value) else spreadsheet_safe(str(value)))
    written = pd.DataFrame(cells, index=table.index)
    written.columns = [spreadsheet_safe(str(name)) for name in table.columns]
    return written.to_csv(index=False, lineterminator="\n")


def number_text(value: float) -> str:
    """The shortest text that reads back as the same float64: positional for 0 and 1e-6 <= |x| < 1e16
    (123456789.12345679, never 1.2345679e+08), scientific beyond, where positional runs to 16+ digits
    of zeros (1e+16, 1e-07); "" for NaN, as pandas writes blanks."""
    import numpy as np

    if value != value:
        return ""
    if value == 0:
        return "0"
    if 1e-6 <= abs(value) < 1e16:
        return np.format_float_positional(value, unique=True, trim="-")
    return repr(float(value))


def spreadsheet_safe(text: str) -> str:
    """Text a spreadsheet would run as a formula (it starts with = + - @, a tab or a carriage return) gets a
    leading single quote, as OWASP's CSV-injection advice says; a number written as text (-3.5) is kept."""
    from forecast_cli.data.numtext import PLAIN

    if text.startswith(FORMULA_STARTS) and not PLAIN.fullmatch(text):
        return "'" + text
    return text


def _json_value(value):
    """JSON has no NaN or Infinity: such a value is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def show_evaluation(result: dict, name: str, as_json: bool, report: Path | None) -> None:
    """The backtest as JSON, a rich table on a terminal, or Markdown in a pipe; optionally a report file."""
    from forecast_cli.report import markdown, rich_table

    if report is not None:
        text = (json.dumps(result, indent=2) + "\n" if str(report).endswith(".json")
                else markdown(result, f"Backtest on {name}"))
        write_text(report, text)
    if as_json:
        json.dump(result, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif sys.stdout.isatty():
        from rich.console import Console

        Console().print(rich_table(result, f"Backtest on {name}: {result['windows']} windows, "
                                           f"horizon {result['horizon']}"))
    else:
        sys.stdout.write(markdown(result, f"Backtest on {name}"))


def show_manifest(manifest: dict) -> None:
    """A readable summary of a model directory's manifest."""
    from rich.console import Console
    from rich.table import Table

    data, spec, config = manifest["data"], manifest["model_spec"], manifest["config"]
    table = Table(show_header=False, title="forecast model")
    rows = [
        ("created", manifest.get("created_at", "")),
        ("versions", ", ".join(f"{k} {v}" for k, v in manifest.get("versions", {}).items())),
        ("data", f"{data.get('path')} ({data.get('rows')} rows, sha256 {str(data.get('sha256'))[:12]}…)"),
        ("time", f"{', '.join(manifest['frame']['time_cols']) or '(row order)'}; frequency "
                 f"{manifest.get('frequency') or 'irregular'}; last {data.get('last_timestamp')}"),
        ("target", _target_text(manifest)),
        ("inputs", ", ".join(manifest["frame"]["input_columns"])),
        ("excluded", "; ".join(f"{k}: {v}" for k, v in manifest["frame"]["excluded"].items()) or "none"),
        ("splits", ", ".join(f"{k} {v}" for k, v in data.get("splits", {}).items())),
        ("model", f"{spec['cell']} {spec['num_layers']}x{spec['hidden_size']}"
                  f"{' bidirectional' if spec['bidirectional'] else ''}, {_head_text(spec)}, "
                  f"window {manifest['window']}, "
                  f"horizon {manifest['horizon']}, norm {config['data']['norm']}"),
        ("training", ", ".join(f"{k} {v}" for k, v in manifest.get("training", {}).items())),
    ]
    metrics = manifest.get("metrics")
    if metrics and manifest.get("classification"):
        baselines = manifest["baselines"]
        rows.append(("test accuracy", f"{metrics['accuracy']:.4f} (majority {baselines['majority']['accuracy']:.4f}, "
                                      f"persistence {baselines['persistence']['accuracy']:.4f})"))
    elif metrics:
        naive = manifest["baselines"]["naive"]
        rows.append(("test mape", f"{metrics['mape']:.4f} (naive {naive['mape']:.4f})"
                     if metrics.get("mape") is not None else "-"))
    for key, value in rows:
        table.add_row(key, str(value))
    Console().print(table)


def _target_text(manifest: dict) -> str:
    """The forecast column, or a classifier's label with its classes (and how it is derived)."""
    classification = manifest.get("classification")
    if not classification:
        return manifest["frame"]["target"]
    rule = f"; {classification['rule']}" if classification.get("rule") else ""
    return f"{classification['label']}: classes {', '.join(map(str, classification['classes']))}{rule}"


def _head_text(spec: dict) -> str:
    if spec.get("task") == "classify":
        return f"softmax head over {spec['n_classes']} classes"
    return f"{spec.get('decoder', 'direct')} decoder"
