"""settle: decides, symbol by symbol, whether parallel git branches can land together."""

__version__ = "0.1.0"
