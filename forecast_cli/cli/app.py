"""The `forecast` command line: options -> config records -> one call per command; errors -> exit codes.

No maths and no heavy imports at module level: torch, pandas and matplotlib load inside commands,
so `forecast --help` stays fast.

Exit codes: 0 success, 1 internal error (a bug), 2 bad usage or bad input, 3 `evaluate --fail-above`
breached, 130 interrupted.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Annotated, Iterator, Optional

import typer
from typer.core import TyperGroup

from forecast_cli import __version__
from forecast_cli.config import DataConfig, ModelConfig, TrainConfig
from forecast_cli.errors import (EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, ConfigError, ForecastError,
                                 Interrupted)

EPILOG = ("Exit codes: 0 success; 1 internal error (a bug, please report it); 2 bad usage or bad input; "
          "3 evaluate --fail-above breached; 130 interrupted (fit saves a checkpoint; continue with --resume).")
# Click's base exception, found through a public Typer name: Typer >= 0.23 bundles its own click.
CLICK_ERROR = next(k for k in typer.BadParameter.__mro__ if k.__name__ == "ClickException")


class OneLineUsageErrors(TyperGroup):
    """Usage errors (unknown option, a bad integer, a missing argument) as one `error:` line and exit 2,
    instead of a boxed panel that wraps long messages over several lines in logs."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode: bool = True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except CLICK_ERROR as exc:
            message = exc.format_message()
            if type(exc).__name__ == "NoArgsIsHelpError":  # the help itself, already printed by Rich
                print(message, file=sys.stderr, end="")
            else:
                context = getattr(exc, "ctx", None)
                hint = f" See '{context.command_path} --help'." if context is not None else ""
                message = message.strip().rstrip(".") + "."
                print(f"error: {message}{hint}".replace("\n", " "), file=sys.stderr)
            sys.exit(exc.exit_code)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    help="Turn a time-ordered CSV into a trained LSTM/GRU forecaster, forecasts, error reports and plots.",
    epilog=EPILOG, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, cls=OneLineUsageErrors,
    context_settings={"help_option_names": ["-h", "--help"]},
)
STATE = {"debug": False}

ModelDir = Annotated[Path, typer.Option("--model", "-m", help="Model directory written by `forecast fit`.",
                                        metavar="DIR")]
DataArg = Annotated[Optional[str], typer.Argument(
    help="CSV file, or - for stdin. Default: the training file recorded in the model, re-read fresh.",
    metavar="[CSV|-]", show_default=False)]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or notes on stderr; errors still show.")]
DEFAULT_MODEL = Path("forecast_model")


def say(message: str, quiet: bool = False) -> None:
    """A note or warning on stderr (never stdout), silenced by --quiet."""
    if not quiet:
        print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def exit_codes() -> Iterator[None]:
    """The one place where exceptions become exit codes and one-line messages."""
    try:
        yield
        sys.stdout.flush()  # here, so a reader that went away is seen below, not at interpreter exit
    except Interrupted as exc:
        _fail(str(exc), exc.exit_code)
    except ForecastError as exc:
        _fail(f"error: {exc}", exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted.", EXIT_INTERRUPTED)
    except BrokenPipeError:
        _reader_gone()
    except typer.Exit:
        raise
    except Exception as exc:  # a bug: one line, the traceback only with --debug
        if STATE["debug"]:
            traceback.print_exc()
        _fail(f"internal error: {type(exc).__name__}: {exc}. This is a bug; please report it "
              "(rerun with --debug for the traceback).", EXIT_INTERNAL)


def _reader_gone() -> None:
    """`forecast predict | head -1`: the reader closed the pipe, which is not an error; exit quietly,
    with stdout pointed at /dev/null so the interpreter's last flush does not fail again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (a test runner's buffer)
        pass
    raise typer.Exit(EXIT_OK)


def _fail(message: str, code: int) -> None:
    if STATE["debug"] and sys.exc_info()[0] is not None and code != EXIT_INTERNAL:
        traceback.print_exc()
    print(message.replace("\n", " "), file=sys.stderr)
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        print(f"forecast {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Turn a time-ordered CSV into a trained LSTM/GRU forecaster, forecasts, error reports and plots."""
    STATE["debug"] = debug or bool(os.environ.get("FORECAST_DEBUG"))


@app.command(epilog="Example: forecast fit sample_data/sh000001_daily.csv --target close")
def fit(
    data: Annotated[str, typer.Argument(help="CSV file, or - for stdin.", metavar="CSV|-")],
    target: Annotated[Optional[str], typer.Option("--target", "-t", help="Column to forecast (with --task classify: "
                      "the label column; with --target-from: the derived label's name).")] = None,
    features: Annotated[Optional[str], typer.Option(help="Comma-separated input columns (default: every "
                        "numeric column). Text columns named here are one-hot encoded.")] = None,
    time_col: Annotated[Optional[str], typer.Option(help="Time column, or several to combine "
                        "(year,month,day,hour), or none for rows in file order. Default: detected.")] = None,
    cell: Annotated[str, typer.Option(help="Recurrent cell: lstm or gru.")] = "lstm",
    window: Annotated[int, typer.Option(help="Rows of history per sample.")] = 20,
    horizon: Annotated[int, typer.Option(help="Future steps forecast at once.")] = 1,
    hidden: Annotated[int, typer.Option(help="Hidden units per layer.")] = 32,
    layers: Annotated[int, typer.Option(help="Stacked recurrent layers.")] = 1,
    dropout: Annotated[float, typer.Option(help="Dropout between stacked layers.")] = 0.0,
    bidirectional: Annotated[bool, typer.Option("--bidirectional", help="Read windows both ways.")] = False,
    decoder: Annotated[str, typer.Option(help="direct: one linear head for all horizon steps; seq2seq: a second "
                       "cell unrolls the horizon, fed its own previous output.")] = "direct",
    epochs: Annotated[int, typer.Option(help="Maximum training epochs.")] = 60,
    batch_size: Annotated[int, typer.Option(help="Windows per training step.")] = 128,
    lr: Annotated[float, typer.Option(help="Adam learning rate.")] = 2e-3,
    weight_decay: Annotated[float, typer.Option(help="L2 weight decay.")] = 0.0,
    clip_grad: Annotated[float, typer.Option(help="Max gradient norm; 0 turns clipping off.")] = 1.0,
    patience: Annotated[int, typer.Option(help="Epochs without validation gain before stopping.")] = 10,
    val_frac: Annotated[float, typer.Option(help="Share of rows for validation (after train).")] = 0.1,
    test_frac: Annotated[float, typer.Option(help="Share of rows for the test report (last).")] = 0.2,
    season: Annotated[Optional[int], typer.Option(help="Season length for the seasonal-naive baseline. "
                      "Default: from the frequency.")] = None,
    norm: Annotated[str, typer.Option(help="window: relative to each window's last value; global: plain "
                    "z-score.")] = "window",
    device: Annotated[str, typer.Option(help="auto (CUDA, then MPS, else CPU), cpu, cuda or mps.")] = "auto",
    seed: Annotated[int, typer.Option(help="Seed for every random source.")] = 0,
    out: Annotated[Path, typer.Option("--out", "-o", help="Model directory to write.", metavar="DIR")] = DEFAULT_MODEL,
    task: Annotated[str, typer.Option(help="forecast: the target's next values; classify: its class --horizon rows "
                    "ahead (softmax head, cross-entropy).")] = "forecast",
    target_from: Annotated[Optional[str], typer.Option(help="With --classify-direction: the numeric column whose "
                           "up/down moves are the label.", metavar="COL")] = None,
    classify_direction: Annotated[bool, typer.Option("--classify-direction", help="Label each window up if "
                                  "--target-from is higher --horizon rows after it, else down; implies --task "
                                  "classify.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the fit that SIGINT/SIGTERM interrupted, "
                      "from its checkpoint DIR.checkpoint (same data and options).")] = False,
    quiet: Quiet = False,
) -> None:
    """Train a forecaster (or a classifier) on a CSV and write a model directory with a test report."""
    with exit_codes():
        from forecast_cli.fit import fit as run_fit
        from forecast_cli.cli.progress import epoch_reporter
        from forecast_cli.cli.signals import stop_requested

        data_config = DataConfig(target=target or (f"{target_from}_direction" if target_from else ""),
                                 features=_split(features), time_col=_split(time_col),
                                 window=window, horizon=horizon, val_frac=val_frac, test_frac=test_frac,
                                 norm=norm, season=season, task="classify" if classify_direction else task,
                                 target_from=target_from, classify_direction=classify_direction)
        model_config = ModelConfig(cell, hidden, layers, dropout, bidirectional, decoder)
        train_config = TrainConfig(epochs, batch_size, lr, weight_decay, clip_grad, patience, device, seed)
        with stop_requested() as should_stop, epoch_reporter(epochs, enabled=not quiet) as on_epoch_end:
            outcome = run_fit(data, data_config, model_config, train_config, out,
                              warn=lambda m: say(f"warning: {m}", quiet), on_epoch_end=on_epoch_end,
                              should_stop=should_stop, resume=resume)
        _fit_summary(outcome, out, quiet)


def _fit_summary(outcome, out: Path, quiet: bool) -> None:
    from forecast_cli.report import summary_line

    training = outcome.manifest["training"]
    say(f"trained on {training['device']} in {outcome.seconds:.1f}s; best epoch {training['best_epoch']} "
        f"of {training['epochs_run']}", quiet)
    if outcome.report:
        say(summary_line(outcome.report), quiet)
    say(f"model written to {out}", quiet)


def _split(value: Optional[str]) -> Optional[tuple[str, ...]]:
    if value is None:
        return None
    return tuple(part.strip() for part in value.split(",") if part.strip())


@app.command(epilog="Example: forecast predict sample_data/sh000001_daily.csv --model forecast_model")
def predict(
    data: DataArg = None,
    model: ModelDir = DEFAULT_MODEL,
    output: Annotated[str, typer.Option("--output", help="File to write, or - for stdout.",
                                        metavar="FILE|-")] = "-",
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    engine: Annotated[str, typer.Option(help="torch, or numpy: the same model in NumPy, without importing "
                      "torch (faster to start).")] = "torch",
    quiet: Quiet = False,
) -> None:
    """Forecast the next horizon steps after the end of the data, in original units."""
    with exit_codes():
        from forecast_cli.cli.output import write_forecast
        from forecast_cli.predict import data_source, forecast_ahead, open_model, read_frame

        if fmt not in ("csv", "json"):
            raise ConfigError(f"--format must be csv or json, not {fmt!r}.")
        manifest, predictor = open_model(str(model), engine)
        frame, _ = read_frame(data_source(data, manifest), manifest)
        for note in frame.notes:
            say(f"warning: {note}", quiet)
        forecast = forecast_ahead(predictor, frame, manifest.get("frequency"))
        write_forecast(forecast, output, fmt)


@app.command(epilog="Example: forecast evaluate sample_data/sh000001_daily.csv --json")
def evaluate(
    data: DataArg = None,
    model: ModelDir = DEFAULT_MODEL,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")] = False,
    report: Annotated[Optional[Path], typer.Option(help="Also write the report: Markdown, or JSON if the "
                                                   "name ends in .json.", metavar="FILE")] = None,
    fail_above: Annotated[Optional[list[str]], typer.Option(help="METRIC=VALUE, e.g. mape=0.05: exit 3 when "
                          "the model's metric is worse. Repeatable.", metavar="METRIC=VALUE")] = None,
    quiet: Quiet = False,
) -> None:
    """Backtest a saved model and report its errors beside naive baselines."""
    with exit_codes():
        from forecast_cli.evaluate import backtest, check_thresholds, evaluation_origins, parse_thresholds
        from forecast_cli.cli.output import show_evaluation
        from forecast_cli.predict import data_source, open_model, read_frame

        thresholds = parse_thresholds(fail_above or [])
        manifest, predictor = open_model(str(model))
        source = data_source(data, manifest)
        frame, table = read_frame(source, manifest)
        for note in frame.notes:
            say(f"warning: {note}", quiet)
        origins = evaluation_origins(frame, manifest, source, table.sha256)
        result = backtest(predictor, frame, origins, manifest.get("season"), manifest["mase_scale"]).result
        show_evaluation(result, table.name, as_json, report)
        check_thresholds(result, thresholds)


@app.command(epilog="Example: forecast plot sample_data/sh000001_daily.csv --out forecast.png")
def plot(
    data: DataArg = None,
    model: ModelDir = DEFAULT_MODEL,
    out: Annotated[Path, typer.Option("--out", "-o", help="PNG file to write.", metavar="FILE.png")] = Path(
        "forecast.png"),
    quiet: Quiet = False,
) -> None:
    """Draw actual against predicted, the forecast ahead, and the training curves."""
    with exit_codes():
        from forecast_cli.plot import plot_model

        plot_model(str(model), data, out)
        say(f"plot written to {out}", quiet)


@app.command(epilog="Example: forecast info --model forecast_model")
def info(
    model: ModelDir = DEFAULT_MODEL,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole manifest as JSON.")] = False,
) -> None:
    """Show what a model directory holds: data, columns, configuration, scores."""
    with exit_codes():
        from forecast_cli.store.artifact import read_manifest
        from forecast_cli.cli.output import show_manifest

        manifest = read_manifest(model)
        if as_json:
            json.dump(manifest, sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            show_manifest(manifest)


def _terminated(signum, frame) -> None:
    """SIGTERM (a stopped cron job, `timeout`) ends a command like Ctrl-C: cleanup runs, exit code 130."""
    raise KeyboardInterrupt


def main() -> None:
    """Console-script entry point."""
    signal.signal(signal.SIGTERM, _terminated)
    try:
        app()
    except KeyboardInterrupt:
        print("interrupted.", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)


__all__ = ["app", "main", "EXIT_BAD_INPUT"]
