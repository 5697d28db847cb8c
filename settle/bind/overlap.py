"""Whether two claim patterns can name one thing: what makes two leases collide.

A pattern covers a path glob's files (file level), or a symbol and everything
nested in it. Two patterns overlap when some path matches both path globs and,
where both name symbols, their qualified names agree segment by segment as far
as the shorter one goes (the longer one is nested in what the shorter covers).
Globs are intersected exactly, character class by character class.
"""

from __future__ import annotations

from functools import lru_cache

from settle.bind.patterns import Pattern, Segment


def patterns_overlap(first: Pattern, second: Pattern) -> bool:
    if not globs_intersect(first.path, second.path, path=True):
        return False
    if first.is_file_level or second.is_file_level:
        return True
    return all(_segments_overlap(a, b) for a, b in zip(first.segments, second.segments))


def _segments_overlap(first: Segment, second: Segment) -> bool:
    return (
        globs_intersect(first.name, second.name)
        and (first.parameters is None or second.parameters is None or first.parameters == second.parameters)
        and (first.occurrence is None or second.occurrence is None or first.occurrence == second.occurrence)
    )


def globs_intersect(first: str, second: str, path: bool = False) -> bool:
    """Is there a string both globs match? In a path, `*` and `?` stay inside a segment, `**` crosses them."""
    return _intersect(_tokens(first, path), _tokens(second, path))


# A token is ("char", c), ("any", exclude_slash) for `?`, ("star", crosses_slash) for `*`/`**`,
# or ("set", (negated, frozenset of chars, ranges)) for `[...]`.


@lru_cache(maxsize=4096)
def _tokens(glob: str, path: bool) -> tuple:
    tokens, index = [], 0
    while index < len(glob):
        char = glob[index]
        if char == "*":
            crosses = path and glob.startswith("**", index)
            index += 2 if crosses else 1
            if crosses and glob.startswith("/", index):
                index += 1  # `**/` also matches no directory at all: a star that crosses covers it
            tokens.append(("star", crosses or not path))
            continue
        if char == "?":
            tokens.append(("any", path))
        elif char == "[" and (closing := glob.find("]", index + 2)) != -1:
            body = glob[index + 1:closing]
            negated = body.startswith(("!", "^"))
            tokens.append(("set", (negated, _members(body[1:] if negated else body))))
            index = closing + 1
            continue
        else:
            tokens.append(("char", char))
        index += 1
    return tuple(tokens)


def _members(body: str) -> tuple[tuple[str, str], ...]:
    ranges, index = [], 0
    while index < len(body):
        if index + 2 < len(body) and body[index + 1] == "-":
            ranges.append((body[index], body[index + 2]))
            index += 3
        else:
            ranges.append((body[index], body[index]))
            index += 1
    return tuple(ranges)


def _intersect(first: tuple, second: tuple) -> bool:
    @lru_cache(maxsize=None)
    def meet(i: int, j: int) -> bool:
        if i == len(first) and j == len(second):
            return True
        if i < len(first) and first[i][0] == "star":
            # The star matches nothing more, or takes one more character of the other glob.
            if meet(i + 1, j):
                return True
            return j < len(second) and (second[j][0] == "star" or _star_takes(first[i], second[j])) and meet(i, j + 1)
        if j < len(second) and second[j][0] == "star":
            return meet(i, j + 1) or (i < len(first) and _star_takes(second[j], first[i]) and meet(i + 1, j))
        if i == len(first) or j == len(second):
            return False
        return _chars_meet(first[i], second[j]) and meet(i + 1, j + 1)

    return meet(0, 0)


def _star_takes(star: tuple, token: tuple) -> bool:
    """Can this star match the character the token stands for? A star inside a path segment takes no '/'."""
    crosses = star[1]
    return crosses or _chars_meet(token, ("set", (True, (("/", "/"),))))


def _chars_meet(first: tuple, second: tuple) -> bool:
    """Is there one character both tokens match?"""
    candidates = _sample(first) | _sample(second) | {"a", "/", "\x00"}
    return any(_accepts(first, c) and _accepts(second, c) for c in candidates)


def _sample(token: tuple) -> set[str]:
    """Characters that decide whether two single-character tokens meet: theirs, and their neighbours."""
    kind, value = token
    if kind == "char":
        return {value}
    if kind == "set":
        found = set()
        for low, high in value[1]:
            found |= {low, high, chr(max(ord(low) - 1, 0)), chr(ord(high) + 1)}
        return found
    return set()


def _accepts(token: tuple, char: str) -> bool:
    kind, value = token
    if kind == "char":
        return char == value
    if kind == "any":
        return not (value and char == "/")
    if kind == "set":
        negated, ranges = value
        inside = any(low <= char <= high for low, high in ranges)
        return (not inside if negated else inside) and char != "/"
    return True
