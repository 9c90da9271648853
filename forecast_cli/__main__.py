"""Allow `python -m forecast_cli`."""

from forecast_cli.cli.app import main

main()
