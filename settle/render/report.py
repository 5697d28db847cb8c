"""`settle report`: verdict files aggregated into a conflict taxonomy (JSON, Markdown, self-contained HTML).

The aggregate is computed once (`build_taxonomy`); each renderer only presents it.
"""

from __future__ import annotations

import html
import json
from collections import Counter
from pathlib import Path

from settle.errors import ConfigError
from settle.languages import profile_for_path

EXAMPLES_PER_KIND = 3
TOP = 10


def load_verdicts(paths: list[str]) -> list[dict]:
    """Verdict documents from JSON files (one verdict) or JSON Lines files (replay output)."""
    verdicts = []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"cannot read verdict file {path}: {error}") from error
        stripped = text.strip()
        if not stripped:
            continue
        try:
            documents = [json.loads(stripped)] if stripped.startswith("{") and "\n{" not in stripped else [
                json.loads(line) for line in stripped.splitlines() if line.strip()
            ]
        except json.JSONDecodeError as error:
            raise ConfigError(f"{path}:{error.lineno}: not a settle verdict (JSON or JSON Lines): {error.msg}") from error
        for document in documents:
            if not isinstance(document, dict) or document.get("schema") != "settle.verdict/1":
                raise ConfigError(f"{path}: not a settle verdict (expected \"schema\": \"settle.verdict/1\")")
            verdicts.append(document)
    if not verdicts:
        raise ConfigError("no verdicts in the input files; give files written by `settle check --format json` or `settle replay`")
    return verdicts


def build_taxonomy(verdicts: list[dict]) -> dict:
    kinds: Counter = Counter()
    severities: Counter = Counter()
    languages: Counter = Counter()
    paths: Counter = Counter()
    symbols: Counter = Counter()
    pairs: Counter = Counter()
    examples: dict[str, list[dict]] = {}
    for verdict in verdicts:
        for finding in verdict["findings"]:
            key = f"{finding['kind']}/{finding['subkind']}"
            kinds[key] += 1
            severities[finding["severity"]] += 1
            path = finding.get("path") or (finding["symbols"][0].split("::", 1)[0] if finding["symbols"] else None)
            if finding["severity"] == "info":
                pass  # files seen whole are context, not collisions: keep them out of the hotspots
            elif path:
                profile = profile_for_path(path)
                languages[profile.name if profile else "other"] += 1
                paths[path] += 1
            if finding["severity"] != "info":
                for symbol in finding["symbols"]:
                    symbols[symbol] += 1
                pairs[" × ".join(finding["candidates"])] += 1
            bucket = examples.setdefault(key, [])
            if len(bucket) < EXAMPLES_PER_KIND:
                bucket.append({
                    "message": finding["message"],
                    "symbols": finding["symbols"],
                    "path": path,
                    "locations": [f"{l['side']} {l['path']}" + (f":{l['start_line']}" if l.get("start_line") else "") for l in finding["locations"]],
                    "merge_commit": verdict.get("merge_commit"),
                })
    text_conflicts = {k.split("/", 1)[1]: v for k, v in kinds.items() if k.startswith("text_conflict/")}
    return {
        "verdicts": len(verdicts),
        "merge": sum(1 for v in verdicts if v["verdict"] == "merge"),
        "reject": sum(1 for v in verdicts if v["verdict"] == "reject"),
        "replayed_merges": sum(1 for v in verdicts if v.get("merge_commit")),
        "findings": sum(kinds.values()),
        "by_severity": dict(sorted(severities.items())),
        "by_kind": dict(sorted(kinds.items(), key=lambda item: (-item[1], item[0]))),
        # Languages, hotspots and pairs count errors and warnings only.
        "by_language": dict(sorted(languages.items(), key=lambda item: (-item[1], item[0]))),
        "hotspot_paths": _top(paths),
        "hotspot_symbols": _top(symbols),
        "by_pair": _top(pairs),
        "text_conflicts": {
            "total": sum(text_conflicts.values()),
            "same_symbol": text_conflicts.get("same_symbol", 0),
            "distinct_symbols": text_conflicts.get("distinct_symbols", 0),
            "module_level": text_conflicts.get("module_level", 0),
            "file_level": sum(v for k, v in text_conflicts.items() if k not in ("same_symbol", "distinct_symbols", "module_level")),
        },
        "examples": dict(sorted(examples.items())),
        "held": held_taxonomy(verdicts),
    }


def held_taxonomy(verdicts: list[dict]) -> dict:
    """Which candidates were held most, by what (kind/subkind of the findings that held them), on which symbols.
    Replay's sides (parent1, parent2…) name no candidate anyone retries, so they count only by what and where."""
    candidates: Counter = Counter()
    reasons: Counter = Counter()
    symbols: Counter = Counter()
    held = 0
    for verdict in verdicts:
        by_id = {finding["id"]: finding for finding in verdict["findings"]}
        for candidate, finding_ids in verdict["settlement"]["held"].items():
            held += 1
            if not verdict.get("merge_commit"):
                candidates[candidate] += 1
            holding = [by_id[i] for i in finding_ids if i in by_id]
            reasons.update({f"{f['kind']}/{f['subkind']}" for f in holding})
            symbols.update({s for f in holding for s in f["symbols"]})
    return {"held": held, "candidates": _top(candidates), "by_kind": _top(reasons), "symbols": _top(symbols)}


def _top(counter: Counter) -> list[list]:
    return [[name, count] for name, count in sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:TOP]]


def render_json(taxonomy: dict) -> str:
    return json.dumps(taxonomy, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_markdown(taxonomy: dict) -> str:
    conflicts = taxonomy["text_conflicts"]
    lines = [
        "# settle conflict taxonomy", "",
        f"{taxonomy['verdicts']} verdict(s) ({taxonomy['replayed_merges']} replayed merges): "
        f"{taxonomy['merge']} merge, {taxonomy['reject']} reject; {taxonomy['findings']} finding(s).", "",
    ]
    if conflicts["total"]:
        avoidable = conflicts["distinct_symbols"]
        lines += [f"Of git's {conflicts['total']} text conflict(s): **{avoidable}** `distinct_symbols` "
                  f"(a syntax-aware merge could have avoided them), {conflicts['same_symbol']} `same_symbol`, "
                  f"{conflicts['module_level']} module-level, {conflicts['file_level']} file-level.", ""]
    sections = [("Findings by kind", "kind / subkind", list(taxonomy["by_kind"].items())),
                ("By language", "language", list(taxonomy["by_language"].items())),
                ("Hotspot files", "path", taxonomy["hotspot_paths"]),
                ("Hotspot symbols", "symbol", taxonomy["hotspot_symbols"]),
                ("By candidate pair", "candidates", taxonomy["by_pair"])]
    for title, column, rows in sections:
        lines += [f"## {title}", "", f"| {column} | findings |", "|---|---:|"]
        lines += [f"| `{_md(name)}` | {count} |" for name, count in rows] or ["| (none) | 0 |"]
        lines.append("")
    lines += _held_markdown(taxonomy.get("held"))
    lines += ["## Examples", ""]
    for kind, examples in taxonomy["examples"].items():
        lines += [f"### `{kind}`", ""]
        for example in examples:
            where = "; ".join(example["locations"]) or example["path"] or ""
            merge = f" (merge {example['merge_commit'][:10]})" if example["merge_commit"] else ""
            lines.append(f"- {_md(example['message'])}{merge}  \n  at {_md(where)}")
        lines.append("")
    return "\n".join(lines)


def _held_markdown(held: dict | None) -> list[str]:
    if not held or not held["held"]:
        return []
    lines = [f"## Held candidates", "", f"{held['held']} time(s) a candidate was held."]
    for title, column, rows in (("Held most", "candidate", held["candidates"]), ("Held by", "kind / subkind", held["by_kind"]),
                                ("Held on", "symbol", held["symbols"])):
        if rows:
            lines += ["", f"### {title}", "", f"| {column} | times held |", "|---|---:|"]
            lines += [f"| `{_md(name)}` | {count} |" for name, count in rows]
    return lines + [""]


def _md(text: str) -> str:
    return str(text).replace("|", "\\|")


def render_html(taxonomy: dict) -> str:
    """One self-contained page: inline CSS and SVG, no scripts, nothing fetched."""
    escape = html.escape
    conflicts = taxonomy["text_conflicts"]
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width,initial-scale=1'>",
        "<title>settle conflict taxonomy</title><style>",
        "body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1d2433}",
        "h1{font-size:1.6rem}h2{font-size:1.15rem;margin-top:2rem}.cards{display:flex;gap:1rem;flex-wrap:wrap}",
        ".card{border:1px solid #d0d7e2;border-radius:8px;padding:.6rem 1rem;min-width:8rem}.card b{display:block;font-size:1.5rem}",
        ".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:1.5rem}",
        "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #e3e8ef;padding:.25rem .5rem;text-align:left}",
        "td.n{text-align:right}code{font-size:.9em}li{margin:.3rem 0}svg text{font:12px system-ui,sans-serif;fill:#1d2433}",
        "</style></head><body>",
        "<h1>settle conflict taxonomy</h1><div class=cards>",
    ]
    for label, value in (("verdicts", taxonomy["verdicts"]), ("merge", taxonomy["merge"]), ("reject", taxonomy["reject"]),
                         ("findings", taxonomy["findings"]), ("text conflicts", conflicts["total"]),
                         ("avoidable (distinct symbols)", conflicts["distinct_symbols"])):
        parts.append(f"<div class=card>{escape(label)}<b>{value}</b></div>")
    parts.append("</div><div class=grid>")
    parts.append(_chart("Findings by kind", list(taxonomy["by_kind"].items())))
    parts.append(_chart("Text conflicts", [(k, conflicts[k]) for k in ("same_symbol", "distinct_symbols", "module_level", "file_level")]))
    parts.append(_chart("By language", list(taxonomy["by_language"].items())))
    parts.append(_chart("Hotspot files", taxonomy["hotspot_paths"]))
    parts.append("</div>")
    for title, rows in (("Hotspot symbols", taxonomy["hotspot_symbols"]), ("By candidate pair", taxonomy["by_pair"])):
        parts.append(f"<h2>{escape(title)}</h2><table><tr><th>name</th><th>findings</th></tr>")
        parts += [f"<tr><td><code>{escape(str(name))}</code></td><td class=n>{count}</td></tr>" for name, count in rows]
        parts.append("</table>")
    parts.append("<h2>Examples</h2>")
    for kind, examples in taxonomy["examples"].items():
        parts.append(f"<h3><code>{escape(kind)}</code></h3><ul>")
        for example in examples:
            where = "; ".join(example["locations"]) or example["path"] or ""
            parts.append(f"<li>{escape(example['message'])}<br><small>{escape(where)}</small></li>")
        parts.append("</ul>")
    parts.append(_held_html(taxonomy.get("held")))
    parts.append("</body></html>\n")
    return "".join(parts)


def _held_html(held: dict | None) -> str:
    if not held or not held["held"]:
        return ""
    escape = html.escape
    parts = [f"<h2>Held candidates</h2><p>{held['held']} time(s) a candidate was held.</p>"]
    for title, rows in (("Held most", held["candidates"]), ("Held by", held["by_kind"]), ("Held on", held["symbols"])):
        if rows:
            parts.append(f"<h3>{escape(title)}</h3><table><tr><th>name</th><th>times held</th></tr>")
            parts += [f"<tr><td><code>{escape(str(name))}</code></td><td class=n>{count}</td></tr>" for name, count in rows]
            parts.append("</table>")
    return "".join(parts)


def _chart(title: str, rows: list) -> str:
    """A horizontal bar chart as inline SVG."""
    import html as _html

    rows = [(str(name), int(count)) for name, count in rows][:TOP]
    width, bar_left, row_height = 520, 230, 24
    height = max(1, len(rows)) * row_height + 10
    peak = max((count for _, count in rows), default=0) or 1
    body = [f"<section><h2>{_html.escape(title)}</h2>",
            f"<svg role=img aria-label='{_html.escape(title)}' width={width} height={height} viewBox='0 0 {width} {height}'>"]
    if not rows:
        body.append("<text x=0 y=16>no findings</text>")
    for index, (name, count) in enumerate(rows):
        y = 5 + index * row_height
        length = max(2, int((width - bar_left - 50) * count / peak))
        label = name if len(name) <= 34 else "…" + name[-33:]
        body.append(f"<text x=0 y={y + 15}>{_html.escape(label)}</text>")
        body.append(f"<rect x={bar_left} y={y + 3} width={length} height={row_height - 8} rx=3 fill='#4a7bd1'></rect>")
        body.append(f"<text x={bar_left + length + 6} y={y + 15}>{count}</text>")
    body.append("</svg></section>")
    return "".join(body)


RENDERERS = {"json": render_json, "md": render_markdown, "html": render_html}
