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
    by_kind_severity: dict[str, Counter] = {}
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
            by_kind_severity.setdefault(key, Counter())[finding["severity"]] += 1
            path = _finding_path(finding)
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
            _add_example(examples.setdefault(key, []), finding, path, verdict.get("merge_commit"))
    text_conflicts = {k.split("/", 1)[1]: v for k, v in kinds.items() if k.startswith("text_conflict/")}
    return {
        "source": _source(verdicts),
        "verdicts": len(verdicts),
        "merge": sum(1 for v in verdicts if v["verdict"] == "merge"),
        "reject": sum(1 for v in verdicts if v["verdict"] == "reject"),
        "replayed_merges": sum(1 for v in verdicts if v.get("merge_commit")),
        "findings": sum(kinds.values()),
        "by_severity": dict(sorted(severities.items())),
        "by_kind": _by_count(kinds),
        # The charts show errors and warnings; info (files seen whole: changelogs, AUTHORS)
        # would dwarf them, so it is counted on its own.
        "errors_and_warnings_by_kind": {
            key: {"error": counts["error"], "warning": counts["warning"]}
            for key, counts in sorted(by_kind_severity.items(), key=lambda item: (-_blocking(item[1]), item[0]))
            if _blocking(counts)
        },
        "info_by_kind": _by_count(Counter({key: counts["info"] for key, counts in by_kind_severity.items() if counts["info"]})),
        # Languages, hotspots and pairs count errors and warnings only.
        "by_language": _by_count(languages),
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
        "rejected": [_rejection(verdict) for verdict in verdicts if verdict["verdict"] == "reject"],
        "examples": dict(sorted(examples.items())),
        "held": held_taxonomy(verdicts),
    }


def _finding_path(finding: dict) -> str | None:
    return finding.get("path") or (finding["symbols"][0].split("::", 1)[0] if finding["symbols"] else None)


def _blocking(counts: Counter) -> int:
    return counts["error"] + counts["warning"]


def _add_example(bucket: list[dict], finding: dict, path: str | None, merge_commit: str | None) -> None:
    """A few examples of a kind, each different: one finding seen again (on another merge, or
    found twice at one place) says nothing new."""
    locations = [f"{l['side']} {l['path']}" + (f":{l['start_line']}" if l.get("start_line") else "") for l in finding["locations"]]
    if len(bucket) >= EXAMPLES_PER_KIND or any(e["message"] == finding["message"] and e["locations"] == locations for e in bucket):
        return
    bucket.append({"message": finding["message"], "symbols": finding["symbols"], "path": path,
                   "locations": locations, "merge_commit": merge_commit})


def _source(verdicts: list[dict]) -> dict:
    """What the verdicts cover, from the `replay` blocks replay writes (older lines have none)."""
    from settle import __version__

    replays = [v["replay"] for v in verdicts if isinstance(v.get("replay"), dict)]
    merges = [v["merge_commit"] for v in verdicts if v.get("merge_commit")]
    selections = {(r.get("repository"), r.get("range"), r.get("last"), r.get("tip")) for r in replays}
    return {
        "repositories": sorted({r["repository"] for r in replays if r.get("repository")}),
        "selections": [{"repository": repository, "range": revision_range, "last": last, "tip": tip}
                       for repository, revision_range, last, tip in sorted(selections, key=lambda s: tuple(str(x) for x in s))],
        "first_merge": merges[0] if merges else None,  # replay writes history order
        "last_merge": merges[-1] if merges else None,
        "checks": sum(1 for v in verdicts if not v.get("merge_commit")),
        "replayed_by": sorted({r["settle"] for r in replays if r.get("settle")}),
        "settle": __version__,
    }


def _rejection(verdict: dict) -> dict:
    """A rejected verdict: what it is, and per held candidate the findings that hold it; findings
    of one kind saying the same thing (one use found twice) are one entry with their ids."""
    findings = {finding["id"]: finding for finding in verdict["findings"]}
    replay = verdict.get("replay") if isinstance(verdict.get("replay"), dict) else {}
    held = []
    for candidate, ids in sorted(verdict["settlement"]["held"].items()):
        groups: dict[tuple, dict] = {}
        for finding_id in ids:
            finding = findings.get(finding_id, {"kind": "?", "subkind": "?", "severity": "error", "message": ""})
            key = (finding["kind"], finding["subkind"], finding["severity"], finding["message"])
            groups.setdefault(key, {"kind": key[0], "subkind": key[1], "severity": key[2], "message": key[3], "ids": []})["ids"].append(finding_id)
        held.append({"candidate": candidate, "findings": list(groups.values())})
    return {"merge_commit": verdict.get("merge_commit"), "subject": replay.get("subject"),
            "target": verdict["target"]["ref"], "candidates": [c["ref"] for c in verdict["candidates"]], "held": held}


def _by_count(counter: Counter) -> dict:
    return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0])))
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


# -- what the page and the Markdown say the same way ------------------------------------


def _header_lines(taxonomy: dict) -> list[tuple[str, str]]:
    """(label, text) of the header: repository, revisions, merges, settle version."""
    source = taxonomy["source"]
    rows = [("repository", ", ".join(source["repositories"]) or "not recorded (check verdicts, or replay lines written before replay recorded it)")]
    revisions = [_selection_text(selection) for selection in source["selections"]]
    if source["first_merge"]:
        span = _short(source["first_merge"]) + (f" … {_short(source['last_merge'])}" if source["last_merge"] != source["first_merge"] else "")
        revisions.append(f"merges {span}" + (" (oldest … newest)" if "…" in span else ""))
    rows.append(("revisions", "; ".join(revisions) or "no replayed merges"))
    merges = f"{taxonomy['replayed_merges']} replayed"
    if source["checks"]:
        merges += f", {source['checks']} check verdict(s)"
    rows.append(("merges", merges))
    versions = source["replayed_by"]
    settle = source["settle"]
    if versions and versions != [settle]:
        settle += f" (replayed with {', '.join(versions)})"
    rows.append(("settle", settle))
    return rows


def _selection_text(selection: dict) -> str:
    tip = _short(selection["tip"]) if selection.get("tip") else "?"
    where = f"--range {selection['range']} (to {tip})" if selection.get("range") else f"reachable from HEAD ({tip})"
    taken = f"last {selection['last']} merges " if selection.get("last") else "every merge "
    return taken + where


def _short(commit: str | None) -> str:
    return (commit or "")[:10]


def _rejected_what(rejection: dict) -> str:
    if rejection["merge_commit"]:
        return _short(rejection["merge_commit"])
    return ", ".join(rejection["candidates"]) + f" onto {rejection['target']}"


def _held_findings(held: dict, shown: int = 5) -> tuple[list[dict], int]:
    return held["findings"][:shown], max(0, len(held["findings"]) - shown)


def render_markdown(taxonomy: dict) -> str:
    conflicts = taxonomy["text_conflicts"]
    lines = ["# settle conflict taxonomy", ""]
    lines += [f"- **{label}**: {_md(text)}" for label, text in _header_lines(taxonomy)]
    info = sum(taxonomy["info_by_kind"].values())
    lines += ["", f"{taxonomy['verdicts']} verdict(s) ({taxonomy['replayed_merges']} replayed merges): "
              f"{taxonomy['merge']} merge, {taxonomy['reject']} reject; {taxonomy['findings'] - info} error/warning finding(s), "
              f"{info} info.", ""]
    if conflicts["total"]:
        avoidable = conflicts["distinct_symbols"]
        lines += [f"Of git's {conflicts['total']} text conflict(s): **{avoidable}** `distinct_symbols` "
                  f"(a syntax-aware merge could have avoided them), {conflicts['same_symbol']} `same_symbol`, "
                  f"{conflicts['module_level']} module-level, {conflicts['file_level']} file-level.", ""]
    lines += ["## Rejected merges", ""]
    for rejection in taxonomy["rejected"]:
        subject = f" — {_md(rejection['subject'])}" if rejection["subject"] else ""
        lines.append(f"- `{_md(_rejected_what(rejection))}`{subject}")
        for held in rejection["held"]:
            findings, more = _held_findings(held)
            for finding in findings:
                ids = ", ".join(f"`{finding_id}`" for finding_id in finding["ids"])
                lines.append(f"  - {_md(held['candidate'])} held by `{finding['kind']}/{finding['subkind']}` "
                             f"({finding['severity']}, {ids}): {_md(finding['message'])}")
            if more:
                lines.append(f"  - and {more} more finding(s)")
    if not taxonomy["rejected"]:
        lines.append("(none)")
    lines.append("")
    blocking = [(kind, counts["error"], counts["warning"]) for kind, counts in taxonomy["errors_and_warnings_by_kind"].items()]
    lines += ["## Errors and warnings by kind", "", "| kind / subkind | errors | warnings |", "|---|---:|---:|"]
    lines += [f"| `{_md(kind)}` | {errors} | {warnings} |" for kind, errors, warnings in blocking] or ["| (none) | 0 | 0 |"]
    lines.append("")
    sections = [("Info by kind (not charted)", "kind / subkind", list(taxonomy["info_by_kind"].items())),
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
            merge = f" (merge {_short(example['merge_commit'])})" if example["merge_commit"] else ""
            lines.append(f"- {_md(example['message'])}{merge}  \n  at {_md(where)}")
        lines.append("")
    return "\n".join(lines)


def _held_markdown(held: dict | None) -> list[str]:
    if not held or not held["held"]:
        return []
    lines = ["## Held candidates", "", f"{held['held']} time(s) a candidate was held."]
    for title, column, rows in (("Held most", "candidate", held["candidates"]), ("Held by", "kind / subkind", held["by_kind"]),
                                ("Held on", "symbol", held["symbols"])):
        if rows:
            lines += ["", f"### {title}", "", f"| {column} | times held |", "|---|---:|"]
            lines += [f"| `{_md(name)}` | {count} |" for name, count in rows]
    return lines + [""]


def _md(text: str) -> str:
    return str(text).replace("|", "\\|")


_STYLE = (
    "body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1d2433}"
    "h1{font-size:1.6rem;margin:0 0 .4rem}h2{font-size:1.15rem;margin-top:2rem}h3{font-size:1rem}"
    "header{border-bottom:1px solid #d0d7e2;padding-bottom:.8rem;margin-bottom:1.2rem}"
    "dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:0}"
    "dl.meta dt{color:#5b6578}dl.meta dd{margin:0;overflow-wrap:anywhere}"
    # Seven cards: one row on a wide page, four and three at 800 px, never one left alone.
    ".cards{display:grid;grid-template-columns:repeat(7,minmax(0,1fr));gap:.8rem}"
    "@media (max-width:1000px){.cards{grid-template-columns:repeat(4,minmax(0,1fr))}}"
    "@media (max-width:560px){.cards{grid-template-columns:repeat(2,minmax(0,1fr))}}"
    ".card{border:1px solid #d0d7e2;border-radius:8px;padding:.5rem .8rem;font-size:.9rem;color:#3b4456}"
    ".card b{display:block;font-size:1.5rem;color:#1d2433}.card.info{background:#f5f7fa}"
    ".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:0 1.5rem}"
    "section svg{width:100%;max-width:520px;height:auto}"
    "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #e3e8ef;padding:.25rem .5rem;text-align:left;vertical-align:top}"
    "td.n,th.n{text-align:right;white-space:nowrap}code{font-size:.9em;overflow-wrap:anywhere}li{margin:.3rem 0}"
    "svg text{font:12px system-ui,sans-serif;fill:#1d2433}.legend{font-size:.85rem;color:#5b6578}"
    ".swatch{display:inline-block;width:.8em;height:.8em;border-radius:2px;margin:0 .3em 0 .8em;vertical-align:-.05em}"
    "ul.held{margin:.2rem 0;padding-left:1.1rem}small{color:#5b6578}td.id,td.id code{white-space:nowrap;overflow-wrap:normal}"
    ".card small{display:block;font-size:.75rem;color:#5b6578}"
)
_ERROR, _WARNING, _BAR = "#c8463d", "#d9962b", "#4a7bd1"


def render_html(taxonomy: dict) -> str:
    """One self-contained page: inline CSS and SVG, no scripts, nothing fetched."""
    conflicts = taxonomy["text_conflicts"]
    info = sum(taxonomy["info_by_kind"].values())
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width,initial-scale=1'>",
        f"<title>settle conflict taxonomy{_title_suffix(taxonomy)}</title><style>{_STYLE}</style></head><body>",
        _html_header(taxonomy),
        "<div class=cards>",
    ]
    for label, value, note, extra in (
            ("verdicts", taxonomy["verdicts"], f"{taxonomy['replayed_merges']} replayed", ""),
            ("merge", taxonomy["merge"], "", ""), ("reject", taxonomy["reject"], "", ""),
            ("errors + warnings", taxonomy["findings"] - info, "charted below", ""),
            ("info", info, "not charted", " info"), ("text conflicts", conflicts["total"], "by git", ""),
            ("avoidable", conflicts["distinct_symbols"], "distinct symbols", "")):
        small = f"<small>{escape(note)}</small>" if note else ""
        parts.append(f"<div class='card{extra}'><b>{value}</b>{escape(label)}{small}</div>")
    parts.append("</div>")
    parts.append("<div class=grid>")
    parts.append(_severity_chart("Errors and warnings by kind", taxonomy["errors_and_warnings_by_kind"]))
    parts.append(_chart("Text conflicts", [(k, conflicts[k]) for k in ("same_symbol", "distinct_symbols", "module_level", "file_level")]))
    parts.append(_chart("By language", list(taxonomy["by_language"].items())))
    parts.append(_chart("Hotspot files", taxonomy["hotspot_paths"]))
    parts.append("</div>")
    parts.append(_rejected_html(taxonomy["rejected"]))
    tables = (("Info by kind (not charted)", "kind / subkind", list(taxonomy["info_by_kind"].items()),
               "Files settle sees whole (no grammar: changelogs, AUTHORS, docs): context, not collisions."),
              ("Hotspot symbols", "symbol", taxonomy["hotspot_symbols"], ""),
              ("By candidate pair", "candidates", taxonomy["by_pair"], ""))
    for title, column, rows, note in tables:
        parts.append(_count_table(title, column, rows, note))
    parts.append(_examples_html(taxonomy["examples"]))
    parts.append(_held_html(taxonomy.get("held")))
    parts.append("</body></html>\n")
    return "".join(parts)


def escape(text) -> str:
    return html.escape(str(text))


def _title_suffix(taxonomy: dict) -> str:
    repositories = taxonomy["source"]["repositories"]
    return f": {escape(', '.join(repositories))}" if repositories else ""


def _html_header(taxonomy: dict) -> str:
    rows = "".join(f"<dt>{escape(label)}</dt><dd>{escape(text)}</dd>" for label, text in _header_lines(taxonomy))
    return f"<header><h1>settle conflict taxonomy</h1><dl class=meta>{rows}</dl></header>"


def _rejected_html(rejected: list[dict]) -> str:
    parts = [f"<h2>Rejected merges ({len(rejected)})</h2>"]
    if not rejected:
        return parts[0] + "<p>none</p>"
    parts.append("<table><tr><th>merge</th><th>subject</th><th>held by</th></tr>")
    for rejection in rejected:
        held_items = []
        for held in rejection["held"]:
            findings, more = _held_findings(held)
            held_items += [f"<li><code>{escape(f['kind'] + '/' + f['subkind'])}</code> <small>{escape(held['candidate'])}, "
                           f"{escape(f['severity'])}, {escape(', '.join(f['ids']))}</small><br>{escape(f['message'])}</li>" for f in findings]
            if more:
                held_items.append(f"<li>and {more} more finding(s)</li>")
        held_html = f"<ul class=held>{''.join(held_items)}</ul>" if held_items else "<small>no finding recorded</small>"
        parts.append(f"<tr><td class=id><code>{escape(_rejected_what(rejection))}</code></td>"
                     f"<td>{escape(rejection['subject'] or '')}</td><td>{held_html}</td></tr>")
    parts.append("</table>")
    return "".join(parts)


def _count_table(title: str, column: str, rows: list, note: str) -> str:
    parts = [f"<h2>{escape(title)}</h2>"]
    if note:
        parts.append(f"<p class=legend>{escape(note)}</p>")
    parts.append(f"<table><tr><th>{escape(column)}</th><th class=n>findings</th></tr>")
    parts += [f"<tr><td><code>{escape(name)}</code></td><td class=n>{count}</td></tr>" for name, count in rows]
    if not rows:
        parts.append("<tr><td>(none)</td><td class=n>0</td></tr>")
    parts.append("</table>")
    return "".join(parts)


def _examples_html(examples: dict) -> str:
    parts = ["<h2>Examples</h2>"]
    for kind, items in examples.items():
        parts.append(f"<h3><code>{escape(kind)}</code></h3><ul>")
        for example in items:
            where = "; ".join(example["locations"]) or example["path"] or ""
            merge = f"merge <code>{escape(_short(example['merge_commit']))}</code> · " if example["merge_commit"] else ""
            parts.append(f"<li>{escape(example['message'])}<br><small>{merge}{escape(where)}</small></li>")
        parts.append("</ul>")
    return "".join(parts)


_WIDTH, _BAR_LEFT, _ROW = 520, 230, 24


def _label(name: str) -> str:
    return name if len(name) <= 34 else "…" + name[-33:]


def _svg_open(title: str, rows: int) -> tuple[list[str], int]:
    height = max(1, rows) * _ROW + 10
    return [f"<section><h2>{escape(title)}</h2>",
            f"<svg role=img aria-label='{escape(title)}' width={_WIDTH} height={height} viewBox='0 0 {_WIDTH} {height}'>"], height


def _held_html(held: dict | None) -> str:
    if not held or not held["held"]:
        return ""
    parts = [f"<h2>Held candidates</h2><p>{held['held']} time(s) a candidate was held.</p>"]
    for title, rows in (("Held most", held["candidates"]), ("Held by", held["by_kind"]), ("Held on", held["symbols"])):
        if rows:
            parts.append(f"<h3>{escape(title)}</h3><table><tr><th>name</th><th class=n>times held</th></tr>")
            parts += [f"<tr><td><code>{escape(str(name))}</code></td><td class=n>{count}</td></tr>" for name, count in rows]
            parts.append("</table>")
    return "".join(parts)


def _chart(title: str, rows: list) -> str:
    """A horizontal bar chart as inline SVG."""
    rows = [(str(name), int(count)) for name, count in rows][:TOP]
    peak = max((count for _, count in rows), default=0) or 1
    body, _ = _svg_open(title, len(rows))
    if not rows:
        body.append("<text x=0 y=16>no findings</text>")
    for index, (name, count) in enumerate(rows):
        y = 5 + index * _ROW
        length = max(2, int((_WIDTH - _BAR_LEFT - 50) * count / peak)) if count else 0
        body.append(f"<text x=0 y={y + 15}><title>{escape(name)}</title>{escape(_label(name))}</text>")
        if length:
            body.append(f"<rect x={_BAR_LEFT} y={y + 3} width={length} height={_ROW - 8} rx=3 fill='{_BAR}'></rect>")
        body.append(f"<text x={_BAR_LEFT + length + 6} y={y + 15}>{count}</text>")
    body.append("</svg></section>")
    return "".join(body)


def _severity_chart(title: str, counts: dict) -> str:
    """Bars of errors and warnings per kind, one segment each, with a legend."""
    rows = list(counts.items())[:TOP]
    peak = max((c["error"] + c["warning"] for _, c in rows), default=0) or 1
    body, _ = _svg_open(title, len(rows))
    body[0] += (f"<div class=legend><span class=swatch style='background:{_ERROR}'></span>error"
                f"<span class=swatch style='background:{_WARNING}'></span>warning</div>")
    if not rows:
        body.append("<text x=0 y=16>no errors or warnings</text>")
    scale = (_WIDTH - _BAR_LEFT - 50) / peak
    for index, (name, count) in enumerate(rows):
        y, x = 5 + index * _ROW, _BAR_LEFT
        body.append(f"<text x=0 y={y + 15}><title>{escape(name)}</title>{escape(_label(name))}</text>")
        for severity, colour in (("error", _ERROR), ("warning", _WARNING)):
            if count[severity]:
                length = max(2, int(scale * count[severity]))
                body.append(f"<rect x={x} y={y + 3} width={length} height={_ROW - 8} fill='{colour}'>"
                            f"<title>{count[severity]} {severity}</title></rect>")
                x += length
        total = count["error"] + count["warning"]
        body.append(f"<text x={x + 6} y={y + 15}>{total}</text>")
    body.append("</svg></section>")
    return "".join(body)


RENDERERS = {"json": render_json, "md": render_markdown, "html": render_html}
