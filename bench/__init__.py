"""Benchmarks of forecast: `python -m bench` prints one table of figures and ratios (bench/__main__.py).

The older single-purpose scripts beside this file (cli_startup.py, predict_engines.py, ...) still run
on their own; nothing here is imported by the package or the tests.
"""
