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


def rust_crate(module: str, name: str | None, importer: str, path: str) -> bool:
    """`crate::a::b` → src/a/b.rs or src/a/b/mod.rs (a trailing item name may follow)."""
    parts = [p for p in module.split("::") if p not in ("crate", "self", "super", "")]
    stem = _stem(path)
    for end in range(len(parts), 0, -1):
        target = "/".join(parts[:end])
        if _ends_with(stem, target) or _ends_with(stem, target + "/mod"):
            return True
    return False


RESOLVERS: dict[str, Resolver] = {
    "python": python,
    "relative": relative,
    "go_package": go_package,
    "java_package": java_package,
    "rust_crate": rust_crate,
}


def module_names_file(strategy: str, module: str, name: str | None, importer: str, path: str) -> bool:
    resolver = RESOLVERS.get(strategy)
    return resolver is not None and resolver(module, name, importer, path)
