"""settle: decides, symbol by symbol, whether parallel git branches can land together."""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:
    from settle.settlement import check
    from settle.models import Verdict

__all__ = ["Verdict", "check", "__version__"]


def __getattr__(name: str):
    # Lazy, so that `settle --help` does not import pygit2, tree-sitter or pydantic.
    if name == "check":
        from settle.settlement import check

        return check
    if name == "Verdict":
        from settle.models import Verdict

        return Verdict
    raise AttributeError(f"module 'settle' has no attribute {name!r}")
