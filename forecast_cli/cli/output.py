"""Writing results where the user asked: stdout (data only) or files (written atomically).

Rich is used for terminal tables only; CSV and JSON go to stdout directly.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from pathlib import Path

from forecast_cli.errors import ConfigError
from forecast_cli.store.atomic import check_file_target, write_text

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP: what makes a spreadsheet read a cell as a formula


FORECAST_FORMATS = ("csv", "json", "markdown")
EVALUATION_FORMATS = ("table", "markdown", "json", "csv")
FORMAT_BY_SUFFIX = {".json": "json", ".md": "markdown", ".markdown": "markdown", ".csv": "csv"}


def check_choice(option: str, value: str | None, choices: tuple[str, ...]) -> None:
    """Refuse a value outside `choices` (None: not given) in the CLI's one line."""
    if value is not None and value not in choices:
        listed = ", ".join(choices[:-1]) + f" or {choices[-1]}"
        raise ConfigError(f"{option} must be {listed}, not {value!r}.")


def chosen_format(fmt: str | None, as_json: bool, choices: tuple[str, ...]) -> str | None:
    """--format, with --json as its synonym for json; both asking for different formats is refused."""
    check_choice("--format", fmt, choices)
    if as_json and fmt not in (None, "json"):
        raise ConfigError(f"--json and --format {fmt} ask for two formats; give one.")
    return "json" if as_json else fmt


def forecast_format(fmt: str | None, output: str) -> str:
    """predict's format: --format, else from --output's extension (.json, .md), else CSV."""
    check_choice("--format", fmt, FORECAST_FORMATS)
    if fmt is not None:
        return fmt
    return "csv" if output == "-" else FORMAT_BY_SUFFIX.get(Path(output).suffix.lower(), "csv")


def evaluation_format(fmt: str | None, as_json: bool) -> str:
    """evaluate's format: --format or --json, else a table on a terminal and Markdown in a pipe."""
    return chosen_format(fmt, as_json, EVALUATION_FORMATS) or ("table" if sys.stdout.isatty() else "markdown")


def write_fit_report(model, fmt: str | None) -> None:
    """`fit --format json|markdown`: the test report on stdout, as report.json or report.md hold it."""
    if fmt == "json":
        sys.stdout.write(json.dumps(model.report or {}, indent=2) + "\n")
    elif fmt == "markdown":
        sys.stdout.write(model.report_markdown)


def check_forecast_output(output: str, fmt: str, header: bool = True, append: bool = False) -> None:
    """Refuse what cannot be written, before any work: --append without a file or on JSON, --no-header
    off CSV, a path in a missing folder or naming a folder."""
    if append and output == "-":
        raise ConfigError("--append adds rows to a file: name it with --output FILE "
                          "(on stdout, use --no-header with >>).")
    if append and fmt != "csv":
        raise ConfigError(f"--append adds CSV rows; it cannot be used with --format {fmt}.")
    if not header and fmt != "csv":
        raise ConfigError(f"--no-header applies to CSV; it cannot be used with --format {fmt}.")
    if output != "-":
        check_file_target(Path(output))


def write_forecast(forecast, output: str, fmt: str, header: bool = True, append: bool = False) -> None:
    """CSV (`timestamp,step,<target>`, or a classifier's `timestamp,step,class,p_<class>...`) or JSON
    records, to stdout (`-`) or a file. A classifier's table carries its label name and classes in `attrs`.
    `header` False leaves out the CSV header line; `append` adds the rows to the file `output`, with the
    header only when the file is new or empty (see _append_csv). Numbers keep every digit (number_text);
    JSON has null where a value is not finite."""
    if fmt == "json":
        records = [{key: _json_value(value) for key, value in record.items()}
                   for record in forecast.to_dict(orient="records")]
        header_fields = {"target": forecast.attrs.get("target", forecast.columns[-1])}
        if "classes" in forecast.attrs:
            header_fields["classes"] = forecast.attrs["classes"]
        if "quantiles" in forecast.attrs:  # level name -> level, e.g. {"p10": 0.1}; <target> is the point level
            header_fields["quantiles"] = forecast.attrs["quantiles"]
        text = json.dumps({**header_fields, "forecast": records}, indent=2) + "\n"
    elif fmt == "markdown":
        text = markdown_table(csv_text(forecast))
    else:
        text = csv_text(forecast)
        head = csv_text(forecast.iloc[:0])  # the header line as written above
        if append:
            _append_csv(Path(output), text[len(head):], head, header)
            return
        if not header:
            text = text[len(head):]
    if output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_text(Path(output), text)


def markdown_table(csv_text: str) -> str:
    """A CSV text as a Markdown table (the cells as the CSV writes them; `|` escaped)."""
    rows = list(csv.reader(io.StringIO(csv_text)))
    lines = ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join([lines[0], "|" + "---|" * len(rows[0]), *lines[1:]]) + "\n"


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


def _append_csv(path: Path, rows: str, head: str, header: bool) -> None:
    """Add CSV rows at the end of `path`: a new or empty file gets the header first (unless `header` is
    False); a file whose first line is another header is refused, so one file never mixes columns.
    One plain append, not an atomic replace: the rows already there stay as they are."""
    first, ends_in_newline = _first_line(path)
    if first is None:
        body = (head if header else "") + rows
    else:
        _require_same_columns(path, first, head, header)
        body = ("" if ends_in_newline else "\n") + rows
    try:
        with open(path, "a", newline="") as stream:
            stream.write(body)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be written ({exc.strerror}); choose another path.") from exc


def _first_line(path: Path) -> tuple[str | None, bool]:
    """The file's first line (None for a missing or empty file) and whether its last byte is a newline."""
    try:
        with open(path, "rb") as stream:
            first = stream.readline()
            if not first:
                return None, True
            stream.seek(-1, 2)
            return first.decode("utf-8", "replace").rstrip("\r\n"), stream.read(1) == b"\n"
    except FileNotFoundError:
        return None, True
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read to append to it ({exc.strerror}); choose another path.") from exc


def _require_same_columns(path: Path, first: str, head: str, header: bool) -> None:
    """The file's header must be this forecast's; with --no-header a headerless file needs as many fields."""
    expected = head.rstrip("\n")
    if first == expected:
        return
    if not header and len(next(csv.reader([first]))) == len(next(csv.reader([expected]))):
        return
    raise ConfigError(f"--append: {path} starts with {first[:80]!r}, not this forecast's columns {expected!r}; "
                      "append to a file with the same columns, or write a new one.")


def show_evaluation(result: dict, name: str, fmt: str, report: Path | None) -> None:
    """The backtest on stdout as `fmt` (table, markdown, json or csv); optionally a report file, whose
    format its extension picks (.json, .csv, else Markdown)."""
    from forecast_cli.report import csv_text, markdown, rich_table

    title = f"Backtest on {name}"
    texts = {"json": lambda: json.dumps(result, indent=2) + "\n", "csv": lambda: csv_text(result),
             "markdown": lambda: markdown(result, title)}
    if report is not None:
        write_text(report, texts[FORMAT_BY_SUFFIX.get(report.suffix.lower(), "markdown")]())
    if fmt == "table":
        from rich.console import Console

        Console().print(rich_table(result, f"{title}: {result['windows']} windows, horizon {result['horizon']}"))
    else:
        sys.stdout.write(texts[fmt]())


def show_manifest(manifest, directory: Path) -> None:
    """A readable summary of a model directory's manifest (a store.manifest.Manifest)."""
    from rich.console import Console
    from rich.table import Table

    from forecast_cli.data.calendar import calendar_columns
    from forecast_cli.data.timeindex import frequency_words

    data, spec, frame = manifest.data, manifest.model_spec, manifest.frame
    table = Table(show_header=False, title="forecast model")
    rows = [
        ("created", manifest.created_at),
        ("versions", ", ".join(f"{k} {v}" for k, v in manifest.versions.items())),
        ("data", f"{data.path or 'stdin or a DataFrame (no file recorded)'} ({data.rows} rows, "
                 f"sha256 {data.sha256[:12]}…)"),
        ("read without DATA", _default_data_text(manifest, directory)),
        ("time", f"{', '.join(frame.time_cols) or '(row order)'}; frequency "
                 f"{frequency_words(manifest.frequency)}; last {data.last_timestamp}"),
        ("target", _target_text(manifest)),
        ("inputs", ", ".join([*frame.input_columns,
                              *calendar_columns(manifest.configs.data.calendar, manifest.frequency)])),
        ("excluded", "; ".join(f"{k}: {v}" for k, v in frame.excluded.items()) or "none"),
        ("splits", ", ".join(f"{k} {v}" for k, v in data.splits.items())),
        ("model", f"{spec.cell} {spec.num_layers}x{spec.hidden_size}"
                  f"{' bidirectional' if spec.bidirectional else ''}, {_head_text(spec)}, "
                  f"window {manifest.window}, horizon {manifest.horizon}, norm {manifest.configs.data.norm}"
                  + (f", ensemble of {manifest.configs.train.ensemble}" if manifest.configs.train.ensemble > 1 else "")),
        ("training", ", ".join(f"{k} {v}" for k, v in vars(manifest.training).items())),
    ]
    if spec.quantiles:
        calibration = manifest.calibration
        rows.append(("quantiles", ", ".join(f"{level:g}" for level in spec.quantiles) + " (point: 0.5; pinball loss)"
                     + (f"; intervals widened on the {calibration.part} part ({calibration.origins} origins)"
                        if calibration else "")))
    metrics, baselines = manifest.metrics, manifest.baselines
    if metrics and manifest.classification:
        rows.append(("test accuracy", f"{metrics['accuracy']:.4f} (majority {baselines['majority']['accuracy']:.4f}, "
                                      f"persistence {baselines['persistence']['accuracy']:.4f})"))
    elif metrics:
        naive = baselines["naive"]
        rows.append(("test mape", f"{metrics['mape']:.4f} (naive {naive['mape']:.4f})"
                     if metrics.get("mape") is not None else "-"))
    for key, value in rows:
        table.add_row(key, str(value))
    Console().print(table)


def _default_data_text(manifest, directory: Path) -> str:
    """Which file a command without DATA reads now (loaded.recorded_paths' order), or why none."""
    from forecast_cli.loaded import recorded_paths

    if not manifest.data.path:
        return "nothing: pass DATA or '-'"
    candidates = recorded_paths(manifest, directory)
    found = next((path for path in candidates if Path(path).is_file()), None)
    if found is None:
        return f"nothing: {' and '.join(candidates)} no longer exist; pass DATA"
    relative = manifest.data.relative_path
    return f"{found} ({relative} from the model directory)" if relative and found == candidates[0] else found


def _target_text(manifest) -> str:
    """The forecast column, or a classifier's label with its classes (and how it is derived)."""
    classification = manifest.classification
    if not classification:
        return manifest.frame.target
    rule = f"; {classification.rule}" if classification.rule else ""
    return f"{classification.label}: classes {', '.join(map(str, classification.classes))}{rule}"


def _head_text(spec) -> str:
    if spec.task == "classify":
        return f"softmax head over {spec.n_classes} classes"
    return f"{spec.decoder} decoder"
