"""One benchmark run, one table: `python -m bench [--quick] [--only train,startup,read] [--json FILE]`.

Sections: train (fit's training modes against a bare nn.LSTM loop, NeuralForecast and Darts when
installed), startup (--help, cold predict per engine, import torch), read (generated CSVs of 1M, 3M
and 5M rows through fit, predict, evaluate beside pandas.read_csv). The table is Markdown, ready for
the README's Performance section; --json keeps every raw figure. Children inherit OMP_NUM_THREADS
(default 1, set before torch loads) so both sides of every ratio run on the same threads.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

SECTIONS = ("train", "startup", "read")
ROOT = Path(__file__).resolve().parents[1]


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and few runs: a smoke run under a minute")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections of {', '.join(SECTIONS)}")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--threads", default="1", help="OMP_NUM_THREADS for this process and every child")
    parser.add_argument("--data", type=Path, help="CSV the train section fits (default sample_data/"
                        "sh000001_daily.csv; --quick: sine.csv)")
    parser.add_argument("--target", help="its target column (default close; --quick: value)")
    parser.add_argument("--epochs", type=int, help="epochs per training run (default 4; --quick 2)")
    parser.add_argument("--repeats", type=int, help="interleaved training runs per trainer (default 2; --quick 1)")
    parser.add_argument("--runs", type=int, help="fresh processes per start-up command (default 7; --quick 3)")
    parser.add_argument("--rows", help="comma-separated CSV sizes for the read section (default 1M,3M,5M)")
    parser.add_argument("--read-runs", type=int, help="read section: interleaved runs of read_csv and fit's read, "
                        "medians kept (default 3; --quick 1)")
    parser.add_argument("--cache", type=Path, default=Path(__file__).resolve().parent / ".cache",
                        help="where generated CSVs are kept between runs")
    parser.add_argument("--baseline", type=Path, help="read section: also run another checkout's tree (its root, "
                        "put first on PYTHONPATH), in turn with this one, as the 'before' rows")
    parser.add_argument("--no-libraries", action="store_true", help="skip NeuralForecast and Darts")
    args = parser.parse_args()
    unknown = set(args.only.split(",")) - set(SECTIONS)
    if unknown:
        parser.error(f"--only: unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    return args


def main() -> None:
    args = options()
    os.environ["OMP_NUM_THREADS"] = args.threads  # before torch is imported, here and in every child
    from bench import measure

    quick = args.quick
    sections = args.only.split(",")
    started = time.perf_counter()
    by_section: dict[str, list] = {}
    # read first: its children's peak RSS is measured by wait4, and a child forked from this process after
    # training grew it (NeuralForecast, Darts) counts those pages in its own peak (804 MB for read_csv of 1M rows)
    if "read" in sections:
        from bench import reading

        sizes = [int(float(size.rstrip("Mm")) * (1e6 if size[-1] in "Mm" else 1)) for size in args.rows.split(",")] \
            if args.rows else ([20_000, 60_000] if quick else [1_000_000, 3_000_000, 5_000_000])
        by_section["read"] = reading.measure(sizes, args.cache, args.baseline, args.read_runs or (1 if quick else 3))
    if "startup" in sections:
        from bench import startup

        by_section["startup"] = startup.measure(args.runs or (3 if quick else 7))
    if "train" in sections:
        import torch

        from bench import training

        torch.set_num_threads(int(args.threads))
        data = args.data or ROOT / "sample_data" / ("sine.csv" if quick else "sh000001_daily.csv")
        target = args.target or ("value" if quick else "close")
        by_section["train"] = training.compare(data, target, args.epochs or (2 if quick else 4),
                                               args.repeats or (1 if quick else 2), others=not (quick or args.no_libraries))
        if quick:
            by_section["train"].append(measure.Row("train", "NeuralForecast, Darts", "skipped in --quick"))
    rows = [row for section in SECTIONS for row in by_section.get(section, [])]  # the table in its usual order
    note = measure.machine_note()
    print(f"`python -m bench{' --quick' if quick else ''}` on {note}; {time.perf_counter() - started:.0f} s\n")
    print(measure.markdown(rows))
    if args.json:
        args.json.write_text(json.dumps({"machine": note, "rows": measure.as_json(rows)}, indent=1))


if __name__ == "__main__":
    main()
