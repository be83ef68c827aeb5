"""The package's version, read by the CLI's ``--version`` and written into every export's metadata."""

__version__ = "0.1.0"
