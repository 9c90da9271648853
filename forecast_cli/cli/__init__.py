"""cli/: the Typer app and the terminal around it; nothing in the package imports it.

app (options -> one API call -> output; errors -> exit codes), output (CSV/JSON/tables to stdout),
progress (stderr progress bar or log lines), signals (SIGINT/SIGTERM as a stop request).
"""
