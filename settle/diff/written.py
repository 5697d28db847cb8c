"""The text a side wrote: its lines, carried on over the lines their expressions continue on.

A reference sits on the line its expression starts on and spells its name at the end, so a byte
test of this text is a test of the names of the references on the lines: how interference and
drift look at a side's lines before reading any table (tests/test_interference_prefilters.py).
"""

from __future__ import annotations

from collections.abc import Iterable

NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"()[]{}")


def written_text(data: bytes, lines: Iterable[int], separators: tuple[str, ...]) -> bytes:
    """The text of the lines, each run of them carried on over the lines its expression continues
    on: while a bracket opened on them is open, after a line that ends in a separator (or `\\`,
    `,`, `<`) and onto a line that starts with a separator or an operator. A reference sits on
    the line its expression starts on and spells its name at the end (`a\\n  .b(x)\\n  .c()`,
    `f(function () {…}).g()`): so this text spells the name of every reference on the lines,
    and a byte test of it is a test of their names (tests/test_interference_prefilters.py)."""
    wanted = set(lines)
    if not wanted:
        return b""
    text = data.split(b"\n")
    count = len(text)
    if len(wanted) >= count - 1 and wanted.issuperset(range(1, count)):
        return data  # every line (a new file)
    starts = tuple(separator.encode() for separator in separators) + OPERATORS
    ends = tuple(separator.encode() for separator in separators) + (b"\\", b",", b"<")
    taken: list[bytes] = []
    last = 0  # the last line taken
    for line in sorted(wanted):
        if line <= last or line > count:
            continue
        depth = 0
        while True:
            current = text[line - 1]
            taken.append(current)
            last = line
            depth = _depth(current, depth)
            if line >= count:
                break
            if depth or line + 1 in wanted or current.rstrip().endswith(ends) or text[line].lstrip().startswith(starts):
                line += 1
                continue
            break
    return b"\n".join(taken)


OPERATORS = tuple(bytes([byte]) for byte in b"=+-*/%&|^<>!?:")


def _depth(line: bytes, depth: int) -> int:
    """Brackets open after the line, from `depth` open before it; a closing one with none open
    counts as none (so the count is at least that of any expression starting on the line)."""
    brackets = line.translate(None, NOT_BRACKETS)
    if not brackets:
        return depth
    if not depth and b")" not in brackets and b"]" not in brackets and b"}" not in brackets:
        return len(brackets)
    for byte in brackets:
        if byte in b"([{":
            depth += 1
        elif depth:
            depth -= 1
    return depth


__all__ = ["NOT_BRACKETS", "OPERATORS", "written_text"]
