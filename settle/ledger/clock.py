"""The one clock every ledger event reads: UTC now, or SETTLE_NOW for tests."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from settle.errors import SettleError

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def now() -> float:
    """Unix seconds. SETTLE_NOW (int or float Unix seconds) fixes it, so tests are reproducible."""
    fixed = os.environ.get("SETTLE_NOW")
    if fixed is None or fixed == "":
        return time.time()
    try:
        return float(fixed)
    except ValueError:
        raise SettleError(f"SETTLE_NOW={fixed!r} is not Unix seconds (an int or a float)") from None


def iso(seconds: float) -> str:
    """UTC ISO-8601 with `Z` and fixed-width microseconds, so stored times sort as text."""
    return datetime.fromtimestamp(seconds, UTC).strftime(_FORMAT)


def now_iso() -> str:
    return iso(now())


def parse(text: str) -> float:
    """Unix seconds from ISO-8601 (a date, or a date and time; UTC unless it says otherwise) or Unix seconds."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise SettleError(f"{text!r} is not a time: give ISO-8601 (2026-12-01 or 2026-12-01T20:00:00Z) or Unix seconds") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def short(stored: str) -> str:
    """A stored time as people read it: to the second."""
    return stored[:19] + "Z"
