"""Domain errors and the exit codes they map to; raised by the library, turned into one line by the CLI."""

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_THRESHOLD = 3
EXIT_INTERRUPTED = 130


class ForecastError(Exception):
    """Base of every error the user can act on; the message is shown as one line."""

    exit_code = EXIT_BAD_INPUT


class DataError(ForecastError):
    """The input data cannot be used as given (file, column, row)."""


class ConfigError(ForecastError):
    """An option is out of range or contradicts the data."""


class ArtifactError(ForecastError):
    """A model directory is missing, damaged, untrusted or from another format version."""


class ThresholdBreached(ForecastError):
    """`evaluate --fail-above` found a metric worse than allowed."""

    exit_code = EXIT_THRESHOLD


class Interrupted(ForecastError):
    """SIGINT or SIGTERM stopped the run after saving what could be saved."""

    exit_code = EXIT_INTERRUPTED
