"""Does a call's argument shape still bind to a signature? Decided from the profile's binding rules."""

from __future__ import annotations

from enum import StrEnum

from settle.languages import BindingRules
from settle.parse.model import ParameterKind, Reference, Signature

_POSITIONAL = (ParameterKind.POSITIONAL_ONLY, ParameterKind.POSITIONAL_OR_KEYWORD, ParameterKind.RECEIVER)
_BY_KEYWORD = (ParameterKind.POSITIONAL_OR_KEYWORD, ParameterKind.KEYWORD_ONLY)
_REQUIRED_KINDS = (*_POSITIONAL, ParameterKind.KEYWORD_ONLY)


class Binding(StrEnum):
    BINDS = "binds"
    INCOMPATIBLE = "incompatible"
    UNDECIDABLE = "undecidable"


def bind(signature: Signature, call: Reference, rules: BindingRules, skip_receiver: bool = True) -> tuple[Binding, str]:
    """Bind positional count and keyword names the way the language would; say why not when it fails."""
    if not rules.checks_arity:
        return Binding.UNDECIDABLE, "any number of arguments is legal in this language"
    if call.spread:
        return Binding.UNDECIDABLE, "the call spreads its arguments"
    parameters = [
        p for p in signature.parameters if not (p.kind is ParameterKind.RECEIVER and skip_receiver)
    ]
    positional = [p for p in parameters if p.kind in _POSITIONAL]
    variadic = any(p.kind is ParameterKind.VAR_POSITIONAL for p in parameters)
    keywords = any(p.kind is ParameterKind.VAR_KEYWORD for p in parameters)
    if call.positional > len(positional) and not variadic:
        return Binding.INCOMPATIBLE, f"{call.positional} positional arguments where at most {len(positional)} are accepted"
    bound = {p.name for p in positional[: call.positional]}
    for keyword in call.keywords:
        if not rules.keywords:
            return Binding.UNDECIDABLE, "named arguments are not modelled for this language"
        target = next((p for p in parameters if p.name == keyword and p.kind in _BY_KEYWORD), None)
        if target is None:
            if keywords:
                continue
            return Binding.INCOMPATIBLE, f"there is no parameter named '{keyword}'"
        if target.name in bound:
            return Binding.INCOMPATIBLE, f"'{keyword}' is given both by position and by name"
        bound.add(target.name)
    missing = [p.name for p in parameters if p.kind in _REQUIRED_KINDS and not p.has_default and p.name not in bound]
    if missing:
        return Binding.INCOMPATIBLE, "missing required argument " + ", ".join(f"'{m}'" for m in missing)
    return Binding.BINDS, ""


def describe_call(call: Reference) -> str:
    parts = [f"{call.positional} positional"]
    if call.keywords:
        parts.append("keywords " + ", ".join(call.keywords))
    if call.spread:
        parts.append("spread")
    return f"{call.text}({'; '.join(parts)})"
