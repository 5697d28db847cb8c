"""The registry of language profiles, keyed by file extension."""

from __future__ import annotations

from settle.languages.profile import BindingRules, Editions, LanguageProfile

_TYPESCRIPT_KEYWORDS = frozenset(
    "abstract any as async await boolean break case catch class const constructor continue debugger declare"
    " default delete do else enum export extends false finally for from function if implements import in"
    " infer instanceof interface keyof let module namespace never new null number object of private protected"
    " public readonly return static string super switch symbol this throw true try type typeof undefined"
    " unknown var void while yield get set".split()
)

PROFILES: tuple[LanguageProfile, ...] = (
    LanguageProfile(
        name="python",
        extensions=(".py", ".pyi"),
        grammar_module="tree_sitter_python",
        binding=BindingRules(checks_arity=True, keywords=True),
        first_parameter_is_receiver=True,
        receiverless_decorators=frozenset({"staticmethod"}),
        constructor_names=("__init__",),
        uppercase_constants=True,
        module_resolver="python",
        # Possessive runs (`*+`) here and in the other profiles' line patterns match what plain
        # ones would (what follows a run can't start inside it), without backtracking: an
        # import scan of pytest's files takes 9 ms instead of 20.
        import_lines=r"^[ \t]*+(?:from|import)\b[^\n]*+",
        # `def`/`class` with the one-line decorators right above it (a new
        # @staticmethod re-shapes the method), a parenthesized list nested two deep
        # and the return annotation; and every `name[: type] =` or `name: type` line
        # (module variables and class fields; locals too, which only costs a parse).
        # Possessive again: no backtracking into every line's first word. The indentation is
        # read once, before the three forms (each reading it again took twice as long).
        header_lines=(
            r"^[ \t]*+(?:(?:@[^\n]*+\n[ \t]*+)*+(?:async[ \t]++)?(?:def|class)[ \t]++(\w++)[ \t]*+"
            r"(?:\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\))?(?:[ \t]*->[^:\n]*)?"
            r"|(\w++)[ \t]*+(?::[^=\n]*)?=(?!=)"
            r"|(\w++)[ \t]*+:[ \t]*[^=\s][^=\n]*$)"
        ),
        syntax_oracle="libcst",
        self_names=("self", "cls"),
        package_stems=("__init__",),
        keywords=frozenset(
            "False None True and as assert async await break class continue def del elif else except"
            " finally for from global if import in is lambda nonlocal not or pass raise return try"
            " while with yield".split()
        ),
    ),
    LanguageProfile(
        name="go",
        extensions=(".go",),
        grammar_module="tree_sitter_go",
        # Exact arity; a variadic last parameter takes any number more.
        binding=BindingRules(checks_arity=True, keywords=False),
        module_resolver="go_package",
        import_lines=r'"[^"\n]*+"',
        directory_is_namespace=True,
        import_path_separator="/",
        blank_names=frozenset({"_"}),
        keywords=frozenset(
            "break case chan const continue default defer else fallthrough for func go goto if import"
            " interface map package range return select struct switch type var nil true false iota".split()
        ),
    ),
    LanguageProfile(
        name="javascript",
        extensions=(".js", ".mjs", ".cjs", ".jsx"),
        grammar_module="tree_sitter_javascript",
        query_files=("definitions.scm", "bindings.scm", "parameters.scm", "calls.scm", "imports.scm", "references.scm", "state.scm"),
        # Any arity is legal at run time: drift can only be changed_in_use.
        binding=BindingRules(checks_arity=False, keywords=False),
        constructor_names=("constructor",),
        uppercase_constants=True,
        module_resolver="relative",
        import_lines=r"^[ \t]*+(?:import|export)\b[^\n]*+|\bfrom\s*+[\"'][^\"'\n]*+|\brequire\s*+\(\s*+[\"'][^\"'\n]*+",
        reference_separators=(".", "?."),
        self_names=("this",),
        package_stems=("index",),
        keywords=frozenset(
            "await break case catch class const continue debugger default delete do else export extends false"
            " finally for function if import in instanceof let new null return super switch this throw true try"
            " typeof undefined var void while with yield async of static get set".split()
        ),
    ),
    LanguageProfile(
        name="rust",
        extensions=(".rs",),
        grammar_module="tree_sitter_rust",
        # Exact arity; `obj.m()` skips the self parameter.
        binding=BindingRules(checks_arity=True, keywords=False),
        module_resolver="rust_crate",
        import_lines=r"^[ \t]*+(?:pub(?:\([^)]*+\))?[ \t]++)?(?:use|mod)\b[^\n]*+",
        reference_separators=("::", "."),
        self_names=("self", "Self"),
        package_stems=("mod",),
        blank_names=frozenset({"_"}),
        # `try!(…)` is the 2015 edition's `?`; from 2018 `try` is a keyword, and the grammar
        # knows only that. A crate without an edition is 2015 (Cargo's default).
        editions=Editions(manifest="Cargo.toml", table="package", key="edition", default="2015",
                          # 2015's `try` is an identifier: `try!(…)`, and a path through a module
                          # named try (`try::replacement()`), whose error node is the bare word.
                          accepted={"2015": frozenset({"try!", "try"})},
                          first_stable="2015-05-15"),  # Rust 1.0
        failure_expectations=(".stderr",),
        keywords=frozenset(
            "as async await break const continue crate dyn else enum extern false fn for if impl in let loop"
            " match mod move mut pub ref return self Self static struct super trait true type unsafe use where while".split()
        ),
    ),
    LanguageProfile(
        name="java",
        extensions=(".java",),
        grammar_module="tree_sitter_java",
        # A call is incompatible when no overload of its name accepts its arity.
        binding=BindingRules(checks_arity=True, keywords=False),
        overloads=True,
        constructors_named_after_class=True,
        implicit_self=True,
        module_resolver="java_package",
        import_lines=r"^[ \t]*+import\b[^\n]*+",
        directory_is_namespace=True,
        self_names=("this",),
        keywords=frozenset(
            "abstract assert boolean break byte case catch char class const continue default do double else enum"
            " extends final finally float for goto if implements import instanceof int interface long native new"
            " package private protected public return short static strictfp super switch synchronized this throw"
            " throws transient try void volatile while true false null var record yield sealed permits".split()
        ),
    ),
    *(
        LanguageProfile(
            name=name,
            extensions=extensions,
            grammar_module="tree_sitter_typescript",
            grammar_function=function,
            query_dir="typescript",
            query_files=("definitions.scm", "javascript/bindings.scm", "parameters.scm", "javascript/calls.scm",
                         "javascript/imports.scm", "references.scm", "javascript/state.scm", *extra),
            # Required-parameter count and maximum arity (unless a rest parameter) decide.
            binding=BindingRules(checks_arity=True, keywords=False),
            overloads=True,
            constructor_names=("constructor",),
            uppercase_constants=True,
            module_resolver="relative",
            import_lines=r"^[ \t]*+(?:import|export)\b[^\n]*+|\bfrom\s*+[\"'][^\"'\n]*+|\brequire\s*+\(\s*+[\"'][^\"'\n]*+",
            reference_separators=(".", "?."),
            self_names=("this",),
            package_stems=("index",),
            keywords=_TYPESCRIPT_KEYWORDS,
        )
        for name, extensions, function, extra in (
            ("typescript", (".ts", ".mts", ".cts"), "language_typescript", ()),
            ("tsx", (".tsx",), "language_tsx", ("jsx.scm",)),
        )
    ),
)

_BY_EXTENSION = {extension: profile for profile in PROFILES for extension in profile.extensions}
_BY_NAME = {profile.name: profile for profile in PROFILES}


def profile_for_path(path: str) -> LanguageProfile | None:
    dot = path.rfind(".")
    if dot < 0 or "/" in path[dot:]:
        return None
    return _BY_EXTENSION.get(path[dot:].lower())


def profile_named(name: str) -> LanguageProfile:
    return _BY_NAME[name]


__all__ = ["PROFILES", "BindingRules", "LanguageProfile", "profile_for_path", "profile_named"]
