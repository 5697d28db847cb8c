"""Does an import's module string name this repository file?

Each profile names one strategy (`module_resolver`); the differ calls
`module_names_file` and never learns which language it is asking about.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable

Resolver = Callable[[str, str | None, str, str], bool]


def _stem(path: str) -> str:
    """Path without its extension."""
    root, _ = posixpath.splitext(path)
    return root


def _ends_with(path: str, suffix: str) -> bool:
    return bool(suffix) and (path == suffix or path.endswith("/" + suffix))


def python(module: str, name: str | None, importer: str, path: str) -> bool:
    """`a.b`, `.b`, `..a.b`; `from pkg import mod` may name the module mod itself."""
    stripped = module.lstrip(".")
    dots = len(module) - len(stripped)
    parts = [p for p in stripped.split(".") if p]
    options = [parts]
    if name and name != "*":
        options.append(parts + [name])
    for candidate in options:
        if dots:
            directory = posixpath.dirname(importer)
            for _ in range(dots - 1):
                directory = posixpath.dirname(directory)
            joined = posixpath.join(directory, *candidate) if candidate else directory
            if _stem(path) == joined or _stem(path) == posixpath.join(joined, "__init__"):
                return True
        elif candidate:
            target = "/".join(candidate)
            # Any source root (`src/`, `lib/`) may precede the package path.
            if _ends_with(_stem(path), target) or _ends_with(_stem(path), target + "/__init__"):
                return True
    return False


def relative(module: str, name: str | None, importer: str, path: str) -> bool:
    """ECMAScript specifiers: `./a`, `../lib/a.js`, `./dir` (its index file)."""
    if not module.startswith("."):
        return False
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(importer), module))
    stem = _stem(path)
    return path == resolved or stem == resolved or stem == _stem(resolved) or stem == resolved + "/index"


def go_package(module: str, name: str | None, importer: str, path: str) -> bool:
    """An import path names a package: every file of a directory whose path ends with it."""
    directory = posixpath.dirname(path)
    module = module.strip("/")
    parts = module.split("/")
    # Module paths carry the module's own prefix (example.com/m/...): match on a suffix.
    return any(_ends_with(directory, "/".join(parts[index:])) for index in range(len(parts)))


def java_package(module: str, name: str | None, importer: str, path: str) -> bool:
    """`import a.b.C` → a/b/C.java; `import a.b.*` → any file under a/b."""
    package = module.replace(".", "/")
    if name and name != "*":
        return _ends_with(_stem(path), f"{package}/{name}") or _ends_with(_stem(path), package)
    return _ends_with(posixpath.dirname(path), package)


_RUST_ROOTS = ("lib", "main")


def _rust_module(path: str) -> tuple[str, tuple[str, ...]] | None:
    """(the crate's source root, the module path) of a file laid out as rustc finds `mod`
    declarations: src/lib.rs and src/main.rs are the crate, src/a.rs and src/a/mod.rs are `a`."""
    if not path.endswith(".rs"):
        return None
    index = path.rfind("/src/")
    root, rest = (path[: index + 5], path[index + 5 :]) if index >= 0 else (("src/", path[4:]) if path.startswith("src/") else ("", path))
    segments = _stem(rest).split("/")
    if segments[-1] == "mod" or (len(segments) == 1 and segments[0] in _RUST_ROOTS):
        segments = segments[:-1]
    return root, tuple(segments)


def _rust_absolute(segments: list[str], importer: str) -> tuple[str, tuple[str, ...]] | None:
    """A path's module segments from the crate root, for paths that start at `crate`, `self` or
    `super`; None for a path that starts with another name (an external crate, or a module in scope)."""
    place = _rust_module(importer)
    if place is None or not segments or segments[0] not in ("crate", "self", "super"):
        return None
    root, current = place
    if segments[0] == "crate":
        return root, tuple(segments[1:])
    position = list(current)
    index = 0
    if segments[0] == "self":
        index = 1
    while index < len(segments) and segments[index] == "super":
        if not position:
            return None  # `super` of the crate root: rustc rejects it
        position.pop()
        index += 1
    return root, tuple(position) + tuple(segments[index:])


def _rust_path_names_file(segments: list[str], importer: str, path: str, item: bool) -> bool | None:
    """Does a path from `crate`/`self`/`super` name the file's module (or, where its last segment
    may be an item, an item in it)? None: not such a path."""
    absolute = _rust_absolute(segments, importer)
    if absolute is None:
        return None
    root, module = absolute
    place = _rust_module(path)
    if place is None or place[0] != root:
        return False
    return place[1] == module or (item and bool(module) and place[1] == module[:-1])


def rust_crate(module: str, name: str | None, importer: str, path: str) -> bool:
    """`crate::a::b`, `super::b`, `self::b` resolve from the importer's module as rustc does
    (src/a/b.rs or src/a/b/mod.rs; a trailing item name may follow). Other paths start with a
    crate's or an in-scope module's name: matched on the path's suffix."""
    segments = [p for p in module.split("::") if p]
    item = bool(name and name != "*")
    if item:
        segments.append(name)
    resolved = _rust_path_names_file(segments, importer, path, item)
    if resolved is not None:
        return resolved
    relative = _rust_path_names_file(["self", *segments], importer, path, item)
    if relative:
        return True
    parts = [p for p in module.split("::") if p not in ("crate", "self", "super", "")]
    stem = _stem(path)
    for end in range(len(parts), 0, -1):
        target = "/".join(parts[:end])
        if _ends_with(stem, target) or _ends_with(stem, target + "/mod"):
            return True
    return False


def rust_qualified(qualifier: str, importer: str, path: str) -> bool:
    """`crate::helper(...)`, `super::a::helper(...)`: a qualifier that is itself a module path."""
    return bool(_rust_path_names_file([p for p in qualifier.split("::") if p], importer, path, item=False))


RESOLVERS: dict[str, Resolver] = {
    "python": python,
    "relative": relative,
    "go_package": go_package,
    "java_package": java_package,
    "rust_crate": rust_crate,
}


# Qualifiers that name a module without an import (Rust's `crate::`, `super::`, `self::`).
QUALIFIED: dict[str, Callable[[str, str, str], bool]] = {
    "rust_crate": rust_qualified,
}


def module_names_file(strategy: str, module: str, name: str | None, importer: str, path: str) -> bool:
    resolver = RESOLVERS.get(strategy)
    return resolver is not None and resolver(module, name, importer, path)


def qualifier_names_file(strategy: str, qualifier: str, importer: str, path: str) -> bool:
    """Does a use's qualifier (`crate::a` of `crate::a::f`), with no import behind it, name the file's module?"""
    resolver = QUALIFIED.get(strategy)
    return resolver is not None and resolver(qualifier, importer, path)
