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

from forecast_cli.cli.memory import keep_freed_memory, small_pages_for_numpy
from forecast_cli.cli.options import optional_values, with_options_of
from forecast_cli.version import __version__
from forecast_cli.config import DataConfig, ModelConfig, TrainConfig
from forecast_cli.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, ConfigError, ForecastError, Interrupted

EPILOG = ("Exit codes: 0 success; 1 internal error (a bug, please report it); 2 bad usage or bad input; "
          "3 evaluate --fail-above breached; 130 interrupted (fit saves a checkpoint; continue with --resume).")
# Click's base exception, found through a public Typer name: Typer >= 0.23 bundles its own click.
CLICK_ERROR = next(k for k in typer.BadParameter.__mro__ if k.__name__ == "ClickException")


class OneLineUsageErrors(TyperGroup):
    """Usage errors (unknown option, a bad integer, a missing argument) as one `error:` line and exit 2,
    instead of a boxed panel that wraps long messages over several lines in logs."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode: bool = True, **extra):
        args = optional_values(sys.argv[1:] if args is None else list(args))
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
    epilog=EPILOG, no_args_is_help=True, add_completion=True, pretty_exceptions_enable=False, cls=OneLineUsageErrors,
    rich_markup_mode=None,  # plain help: rich's help renderer costs --help 0.2 CPU-s (markdown-it and friends)
    context_settings={"help_option_names": ["-h", "--help"]},
)
STATE = {"debug": False}

ModelDir = Annotated[Path, typer.Option("--model", "-m", help="Model directory written by `forecast fit`.",
                                        metavar="DIR")]
DataArg = Annotated[Optional[str], typer.Argument(
    help="CSV file, or - for stdin. Default: the training file recorded in the model, re-read fresh.",
    metavar="[CSV|-]", show_default=False)]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or notes on stderr; errors still show.")]
Engine = Annotated[str, typer.Option(help="torch, or numpy: the same model in NumPy, without importing torch "
                                     "(faster to start; slower on long backtests).")]
IdCol = Annotated[Optional[str], typer.Option(help="Many-series models: their id column(s), as fitted (the model "
                                              "knows them; given, they are checked).", metavar="COL[,COL]")]
Ids = Annotated[Optional[str], typer.Option(help="Many-series models (fitted with --id-col): only these series, "
                                            "comma-separated (several id columns: their values joined by /).",
                                            metavar="ID[,ID]")]
NJobs = Annotated[int, typer.Option(help="Many-series models: series scored at once (joblib workers; -1: every "
                                   "core).")]
Backend = Annotated[str, typer.Option(help="joblib backend for --n-jobs: loky (processes), threading, dask or ray "
                                      "(a cluster; see the README).")]
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
    cell: Annotated[str, typer.Option(help="lstm, gru, or linear (one layer from the window to the horizon: a baseline).")] = ModelConfig.cell,
    window: Annotated[str, typer.Option(help="Rows of history per sample, or auto: two seasons (one for a season "
                      "over 50 rows), 20 without one, shortened to fit short series.")] = "auto",
    horizon: Annotated[int, typer.Option(help="Future steps forecast at once.")] = DataConfig.horizon,
    hidden: Annotated[int, typer.Option(help="Hidden units per layer.")] = ModelConfig.hidden_size,
    layers: Annotated[int, typer.Option(help="Stacked recurrent layers.")] = ModelConfig.num_layers,
    dropout: Annotated[float, typer.Option(help="Dropout between stacked layers.")] = ModelConfig.dropout,
    bidirectional: Annotated[bool, typer.Option("--bidirectional", help="Read windows both ways.")] = False,
    decoder: Annotated[str, typer.Option(help="direct: one linear head for all horizon steps; seq2seq: a second "
                       "cell unrolls the horizon, fed its own previous output.")] = ModelConfig.decoder,
    highway: Annotated[bool, typer.Option("--highway/--no-highway", help="With --decoder direct: add a linear "
                       "layer from the window's target column to the forecasts (zero at first) to the recurrent head's.")] = ModelConfig.highway,
    epochs: Annotated[int, typer.Option(help="Maximum training epochs.")] = TrainConfig.epochs,
    batch_size: Annotated[int, typer.Option(help="Forecast origins per training step (forking: whole chunks, "
                          "at least one).")] = TrainConfig.batch_size,
    lr: Annotated[float, typer.Option(help="Adam learning rate.")] = TrainConfig.lr,
    lr_schedule: Annotated[str, typer.Option(help="plateau: the learning rate halves after every 5 epochs without "
                           "a better validation loss; cosine: it falls from --lr to a tenth over --epochs; "
                           "constant: --lr throughout.")] = TrainConfig.lr_schedule,
    weight_decay: Annotated[float, typer.Option(help="L2 weight decay.")] = TrainConfig.weight_decay,
    ema: Annotated[float, typer.Option(help="Decay of the moving average of the weights that validation scores and "
                   "the best epoch keeps; 0: the raw weights.")] = TrainConfig.ema,
    clip_grad: Annotated[float, typer.Option(help="Max gradient norm; 0 turns clipping off.")] = TrainConfig.clip_grad,
    patience: Annotated[int, typer.Option(help="Epochs without validation gain before stopping.")] = TrainConfig.patience,
    val_frac: Annotated[float, typer.Option(help="Share of rows for validation (after train).")] = DataConfig.val_frac,
    test_frac: Annotated[float, typer.Option(help="Share of rows for the test report (last).")] = DataConfig.test_frac,
    season: Annotated[str, typer.Option(help="Rows per cycle (seasonal naive, --norm seasonal), none, or auto: "
                      "the frequency's cycles confirmed on the training part by autocorrelation.")] = "auto",
    norm: Annotated[str, typer.Option(help="window: relative to each window's last value; seasonal: so too, each "
                    "forecast step an offset from the value one season before it; global: plain z-score; auto: with a "
                    "season, trained both ways and the lower validation loss kept, else window.")] = DataConfig.norm,
    device: Annotated[str, typer.Option(help="auto (CUDA, then MPS, else CPU), cpu, cuda or mps.")] = TrainConfig.device,
    seed: Annotated[int, typer.Option(help="Seed for every random source.")] = TrainConfig.seed,
    out: Annotated[Path, typer.Option("--out", "--model", "-m", help="Model directory to write (--out, --model "
                                      "and -m are one option).", metavar="DIR")] = DEFAULT_MODEL,
    id_col: Annotated[Optional[str], typer.Option(help="Long format: the column(s) naming each row's series "
                      "(comma-separated); one global model across all series, each normalized on its own "
                      "training part.", metavar="COL[,COL]")] = None,
    id_embedding: Annotated[int, typer.Option(help="With --id-col: learn N values per series (an embedding of its "
                            "id), joined to the model's inputs at every step; 0: none.",
                            metavar="N")] = ModelConfig.id_embedding,
    task: Annotated[str, typer.Option(help="forecast: the target's next values; classify: its class --horizon rows "
                    "ahead (softmax head, cross-entropy).")] = DataConfig.task,
    target_from: Annotated[Optional[str], typer.Option(help="With --classify-direction: the numeric column whose "
                           "up/down moves are the label.", metavar="COL")] = None,
    classify_direction: Annotated[bool, typer.Option("--classify-direction", help="Label each window up if "
                                  "--target-from is higher --horizon rows after it, else down; implies --task "
                                  "classify.")] = False,
    training: Annotated[str, typer.Option(help="windows: the encoder reads each origin's window anew; forking: it "
                        "reads chunks of rows once, every step after a --window burn-in an origin (direct head, "
                        "one direction, forecasts only).")] = TrainConfig.training,
    chunk: Annotated[Optional[int], typer.Option(help="With --training forking: rows per chunk, more than "
                     "--window. Default: 4 x --window, at least 256.")] = None,
    quantiles: Annotated[Optional[str], typer.Option(help="Comma-separated levels in (0, 1), e.g. 0.1,0.5,0.9: "
                         "train them with the pinball loss; predict adds a <target>_p10... column per level (p2.5 "
                         "for 0.025) and <target> is the level nearest 0.5; evaluate adds their coverage.",
                         metavar="LEVELS")] = None,
    per_series: Annotated[bool, typer.Option("--per-series", help="With --id-col: train one small model per series "
                          "(each on its own windows) instead of one global model.")] = TrainConfig.per_series,
    n_jobs: Annotated[int, typer.Option(help="With --per-series: series trained at once (joblib workers; -1: every "
                      "core).")] = TrainConfig.n_jobs,
    backend: Annotated[str, typer.Option(help="With --per-series: joblib backend for --n-jobs: loky, threading, "
                       "dask or ray.")] = TrainConfig.backend,
    epoch_size: Annotated[Optional[int], typer.Option(help="Forecast origins drawn at random for each epoch. "
                          "Default: all of them, at most 200,000 (more are sampled anew each epoch).")] = None,
    calendar: Annotated[str, typer.Option(help="auto: sine/cosine of hour of day, day of week, day of year and "
                        "month (those that vary at the data's frequency, whose cycle the training part spans "
                        "twice and the target follows) of each row's timestamp --horizon steps later, as inputs; "
                        "off: none; or parts, "
                        "e.g. hour,dayofweek. A warm start keeps the saved model's.",
                        metavar="auto|off|PARTS")] = DataConfig.calendar,
    ensemble: Annotated[int, typer.Option(help="Train N models with seeds --seed, --seed+1, ... and average their "
                        "forecasts; the report gives the members' spread.", metavar="N")] = TrainConfig.ensemble,
    resume: Annotated[bool, typer.Option("--resume", help="Continue the fit that SIGINT/SIGTERM interrupted, "
                      "from its checkpoint DIR.checkpoint (same data and options).")] = False,
    warm_start: Annotated[Optional[str], typer.Option("--warm-start", help="Start from the weights of the model "
                          "in DIR (default: --out, the model being replaced), e.g. a nightly retrain on new data. "
                          "Its shape options and columns must match (anything else is refused); its scaler is "
                          "kept, so the weights keep their meaning; the report shows the test error before "
                          "(the old model) and after. Put DIR right after it, or nothing.", metavar="[DIR]",
                          show_default=False)] = None,
    fmt: Annotated[Optional[str], typer.Option("--format", help="Also print the test report on stdout: json "
                   "(as report.json) or markdown (as report.md).", show_default=False)] = None,
    quiet: Quiet = False,
    old_out: Annotated[Optional[Path], typer.Option("-o", hidden=True)] = None,  # before -o meant output files
) -> None:
    """Train a forecaster (or a classifier) on a CSV and write a model directory with a test report."""
    options = {name: value for name, value in locals().items() if name not in ("data", "quiet", "fmt", "old_out")}
    primary = int(os.environ.get("RANK", "0")) == 0  # under torchrun, rank 0 alone reports and writes
    quiet = quiet or not primary
    with exit_codes():
        import forecast_cli
        from forecast_cli.cli.output import check_choice, write_fit_report
        from forecast_cli.cli.progress import epoch_reporter
        from forecast_cli.cli.signals import stop_requested

        check_choice("--format", fmt, ("json", "markdown"))
        out = options["out"] = _old_out(old_out, out, quiet)
        options["warm_start"] = True if warm_start == "" else warm_start  # bare --warm-start: --out
        with stop_requested() as should_stop, epoch_reporter(epochs, enabled=not quiet) as on_epoch_end:
            model = forecast_cli.fit(data, **options, warn=_warner(quiet), on_epoch_end=on_epoch_end,
                                     should_stop=should_stop)
        _fit_summary(model, out, quiet)
        if primary:
            write_fit_report(model, fmt)


BACKTEST_HELP = ("K expanding-window refits, each scored on the block of rows after it: the last --test-frac of "
                 "the rows (each block at least 2 x --horizon - 1 rows) is cut into --folds equal blocks; fold k "
                 "fits on every row before its block (train, then validation, the scaler on its train part) as fit "
                 "would, and is scored on that block beside the baselines. Prints each metric's mean ± std across "
                 "folds; writes nothing unless --out DIR (then DIR/backtest.json and DIR/backtest.md). With --id-col the "
                 "blocks are cut at the same times in every series (planned on the longest) and each fold trains one "
                 "global model; each fold reports the mean over series and the share beating each baseline.")
# fit's parameters a backtest does not take: where the model is written, resumed or warm-started from, how
# fit's report is printed; the rest (every data, model and training option) are fit's own declarations.
NOT_BACKTEST = ("data", "out", "resume", "warm_start", "fmt", "quiet", "old_out")


def backtest(
    data: Annotated[str, typer.Argument(help="CSV file, or - for stdin.", metavar="CSV|-")],
    folds: Annotated[int, typer.Option(help="Number of refits (test blocks).")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print per-fold results and the aggregate as JSON "
                                          "instead of the table.")] = False,
    out: Annotated[Optional[Path], typer.Option("--out", help="Folder to write backtest.json and "
                                                "backtest.md into (default: nothing is written).",
                                                metavar="DIR", show_default=False)] = None,
    quiet: Quiet = False,
    **options,
) -> None:
    with exit_codes():
        import forecast_cli
        from forecast_cli.backtesting import text_table

        result = forecast_cli.backtest(data, options.pop("target"), folds=folds, out=out, warn=_warner(quiet),
                                       **options)
        if as_json:
            json.dump(result, sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            sys.stdout.write(text_table(result))
        if out is not None:
            say(f"backtest written to {out / 'backtest.json'} and {out / 'backtest.md'}", quiet)


app.command(help=BACKTEST_HELP, epilog="Example: forecast backtest sample_data/sh000001_daily.csv --target close "
            "--folds 5 --epochs 20")(with_options_of(backtest, fit, NOT_BACKTEST, {
                "test_frac": "Share of rows (the last) that the --folds test blocks cover together."}))


def _old_out(old_out: Optional[Path], out: Path, quiet: bool) -> Path:
    """`fit -o DIR`, the spelling from before -o meant an output file everywhere: still the model
    directory, with one warning."""
    if old_out is None:
        return out
    if out != DEFAULT_MODEL and out != old_out:
        raise ConfigError(f"-o {old_out} and --model {out} both name the model directory; give --model alone.")
    say(f"warning: fit -o is the old spelling of --model (-m); -o now names an output file. Use -m {old_out}.",
        quiet)
    return old_out


def _fit_summary(model, out: Path, quiet: bool) -> None:
    from forecast_cli.report import interval_line, recipe_line, summary_line, verdict_line

    training = model.manifest.training
    say(f"trained on {training.device} in {training.seconds:.1f}s; best epoch {training.best_epoch} "
        f"of {training.epochs_run}", quiet)
    say(recipe_line(model.manifest), quiet)
    if model.report:
        say(summary_line(model.report), quiet)
        if "warm_start" in model.report:
            from forecast_cli.warmstart import summary_line as warm_start_line

            say(warm_start_line(model.report["warm_start"]), quiet)
        if interval_line(model.report):
            say(interval_line(model.report), quiet)
        if "ensemble" in model.report:
            from forecast_cli.ensemble import spread_line

            say(spread_line(model.report["ensemble"]), quiet)
        verdict = verdict_line(model.report, "the test part")
        if verdict:
            say(verdict, quiet)
    say(f"model written to {out}", quiet)


def _warner(quiet: bool):
    """The API's `warn` callback: one line on stderr per note (`warning:` unless it is an Info line),
    silenced by --quiet."""
    from forecast_cli.notes import Info

    return lambda message: say(message if isinstance(message, Info) else f"warning: {message}", quiet)


@app.command(epilog="Example: forecast predict sample_data/sh000001_daily.csv --model forecast_model")
def predict(
    data: DataArg = None,
    model: ModelDir = DEFAULT_MODEL,
    output: Annotated[str, typer.Option("--output", "-o", help="File to write, or - for stdout; a name ending "
                                        ".json or .md picks that format.", metavar="FILE|-")] = "-",
    fmt: Annotated[Optional[str], typer.Option("--format", help="csv, json or markdown. Default: from --output's "
                   "extension, else csv.", show_default=False)] = None,
    no_header: Annotated[bool, typer.Option("--no-header", help="CSV rows without the header line "
                         "(for `forecast predict --no-header >> forecasts.csv`).")] = False,
    append: Annotated[bool, typer.Option("--append", help="Add the rows to --output FILE; the header goes only "
                      "into a new or empty file, and a file with other columns is refused.")] = False,
    engine: Engine = "numpy",  # a forecast is a few windows: NumPy answers before torch would have loaded
    ids: Ids = None,
    id_col: IdCol = None,
    quiet: Quiet = False,
) -> None:
    """Forecast the next horizon steps after the end of the data, in original units."""
    with exit_codes():
        import forecast_cli
        from forecast_cli.cli.output import check_forecast_output, forecast_format, write_forecast

        fmt = forecast_format(fmt, output)
        check_forecast_output(output, fmt, not no_header, append)
        forecast = forecast_cli.load(model, engine=engine, warn=_warner(quiet)).predict(_data(data), ids, id_col=id_col)
        write_forecast(forecast, output, fmt, not no_header, append)


@app.command(epilog="Example: forecast evaluate sample_data/sh000001_daily.csv --json")
def evaluate(
    data: DataArg = None,
    model: ModelDir = DEFAULT_MODEL,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout (--format "
                                          "json).")] = False,
    fmt: Annotated[Optional[str], typer.Option("--format", help="table, markdown, json or csv. Default: a table on a "
                   "terminal, else markdown.", show_default=False)] = None,
    report: Annotated[Optional[Path], typer.Option("--report", "-o", help="Also write the report: JSON or CSV if "
                                                   "the name ends in .json or .csv, else Markdown.",
                                                   metavar="FILE")] = None,
    fail_above: Annotated[Optional[list[str]], typer.Option(help="METRIC=VALUE, e.g. mape=0.05: exit 3 when "
                          "the model's metric is worse; mase_vs_naive=1.0 (also mase_vs_seasonal_naive, "
                          "mase_vs_linear, mase_vs_best) limits the model's MASE over a baseline's. Repeatable.",
                          metavar="METRIC=VALUE")] = None,
    engine: Engine = "torch",
    ids: Ids = None,
    id_col: IdCol = None,
    n_jobs: NJobs = 1,
    backend: Backend = "loky",
    quiet: Quiet = False,
) -> None:
    """Backtest a saved model and report its errors beside naive baselines."""
    with exit_codes():
        import forecast_cli
        from forecast_cli.cli.output import evaluation_format, show_evaluation
        from forecast_cli.evaluate import check_thresholds, parse_thresholds, refuse_thresholds_for_classifier
        from forecast_cli.report import verdict_line
        from forecast_cli.store.atomic import check_file_target

        fmt = evaluation_format(fmt, as_json)
        thresholds = parse_thresholds(fail_above or [])
        if report is not None:
            check_file_target(report)
        loaded = forecast_cli.load(model, engine=engine, warn=_warner(quiet))
        refuse_thresholds_for_classifier(loaded.manifest.task, thresholds)
        result = loaded.evaluate(_data(data), ids, n_jobs, backend, id_col=id_col)
        name = loaded.data_name(_data(data))
        show_evaluation(result, name, fmt, report)
        verdict = verdict_line(result, "this backtest")
        if verdict:
            say(verdict, quiet)
        check_thresholds(result, thresholds)


@app.command(epilog="Example: forecast plot sample_data/sh000001_daily.csv --out forecast.png")
def plot(
    data: DataArg = None,
    model: ModelDir = DEFAULT_MODEL,
    out: Annotated[Path, typer.Option("--out", "--output", "-o", help="Image file to write: .png, .svg or .pdf.",
                                      metavar="FILE")] = Path("forecast.png"),
    ids: Ids = None,
    id_col: IdCol = None,
    n_jobs: NJobs = 1,
    backend: Backend = "loky",
    quiet: Quiet = False,
) -> None:
    """Draw actual against predicted, the forecast ahead, and the training curves."""
    with exit_codes():
        import forecast_cli

        forecast_cli.load(model, warn=_warner(quiet)).plot(out, _data(data), ids, n_jobs, backend, id_col=id_col)
        say(f"plot written to {out}", quiet)


@app.command(epilog="Example: forecast info --model forecast_model")
def info(
    model: ModelDir = DEFAULT_MODEL,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole manifest as JSON (--format json).")] = False,
    fmt: Annotated[Optional[str], typer.Option("--format", help="table or json. Default: table.",
                                               show_default=False)] = None,
) -> None:
    """Show what a model directory holds: data, columns, configuration, scores."""
    with exit_codes():
        from forecast_cli.cli.output import check_choice, show_manifest
        from forecast_cli.store.artifact import read_manifest

        check_choice("--format", fmt, ("table", "json"))
        manifest = read_manifest(model)
        if as_json or fmt == "json":
            json.dump(manifest.to_json(), sys.stdout, indent=2)
            sys.stdout.write("\n")
        else:
            show_manifest(manifest, model)


def _data(data: Optional[str]) -> Optional[str]:
    """The DATA argument as the API takes it: None (or empty) means the training data."""
    return data or None


def _terminated(signum, frame) -> None:
    """SIGTERM (a stopped cron job, `timeout`) ends a command like Ctrl-C: cleanup runs, exit code 130."""
    raise KeyboardInterrupt


def main() -> None:
    """Console-script entry point."""
    signal.signal(signal.SIGTERM, _terminated)
    keep_freed_memory()  # reading millions of rows: freed arrays' pages reused, not faulted in again
    small_pages_for_numpy()  # and fresh ones not zeroed 2 MiB at a time (cli/memory.py)
    try:
        app()
    except KeyboardInterrupt:
        print("interrupted.", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)


__all__ = ["app", "main"]
