"""The parser layer: blob bytes + language profile → SymbolTable, cached by blob id."""

from settle.parse.model import SymbolTable

__all__ = ["SymbolTable"]
