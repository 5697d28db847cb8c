"""`settle check` on a real repository, beside the previous release, cold and warm (used by check.py).

    python benchmarks/check.py --real-repo /path/to/mypy.git [--function mypy/subtypes.py:is_subtype]
                               [--previous b444813 | --previous-venv DIR] [--runs 3]

Makes a `git clone --shared` of the repository into a temporary directory and
commits three candidates: on its HEAD, one adds a required first parameter to
the function (every call site goes stale) and one changes only the function's
body; a third changes the body on the commit BEHIND first-parent commits back,
so the target's advance (every file it changed since) is what it meets.
The previous release is installed into a second venv (its source from
`git archive PREVIOUS` of this checkout, its dependencies those of this
venv) unless --previous-venv names one. Each round runs, interleaved: the
previous release; this one with an empty cache directory (cold); this one
again on the cache the cold run filled (warm); and this one cold with
SETTLE_HELPERS=0 (no helper). Medians of --runs rounds, wall time including
interpreter start; the findings of all must agree.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
CPU_SECONDS: list[float] = []  # of each command _timed ran, in order
BEHIND = 40  # first-parent commits between the third candidate's fork and the base
SETTLE = str(Path(sys.executable).with_name("settle"))


def previous_release(revision: str, workdir: Path) -> str:
    """The `settle` of a second venv holding `revision`'s settle and this venv's dependencies."""
    source = workdir / "previous-src"
    source.mkdir()
    archive = subprocess.run(["git", "-C", str(HERE), "archive", revision], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
    venv = workdir / "previous-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # The same dependency versions as this venv (and its setuptools to build with), without a
    # second download: a .pth line. The previous settle itself goes in first on the path.
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "zz-settle-bench-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # Build isolation: pip fetches the build backend from the configured index (setuptools, wheel).
    installed = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(source)],
                               capture_output=True, text=True)
    if installed.returncode:
        raise SystemExit(f"cannot install the previous release: {installed.stderr[-800:]}")
    return str(venv / "bin" / "settle")


def candidates(mirror: str, function: str, workdir: Path) -> tuple[Path, str, int]:
    """The clone, its base commit, and the number of files spelling the function's name."""
    clone = workdir / "clone"
    subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", mirror, str(clone)], check=True)
    git = ["git", "-C", str(clone), "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
    base = subprocess.run(git + ["rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    path, name = function.split(":")
    text = subprocess.run(git + ["show", f"{base}:{path}"], check=True, capture_output=True, text=True).stdout
    header = re.search(rf"^def {re.escape(name)}\(", text, re.MULTILINE)
    if header is None:
        raise SystemExit(f"no top-level `def {name}(` in {path}")
    wide = text[: header.end()] + "context: object, " + text[header.end():]
    # The body's first line: after the header's closing `):` (with a return annotation or not).
    colon = re.compile(r"\)\s*(?:->[^:]*)?:\s*\n").search(text, header.end())
    body_line = text[colon.end():].split("\n", 1)[0]
    indent = body_line[: len(body_line) - len(body_line.lstrip())] or "    "
    body = text[: colon.end()] + f"{indent}_settle_benchmark = 1\n" + text[colon.end():]
    # A candidate that forked BEHIND commits before the base and changed one line of the body there:
    # the target's advance is what it has to be compared with.
    behind = subprocess.run(git + ["rev-parse", f"{base}~{BEHIND}"], check=True, capture_output=True, text=True).stdout.strip()
    old_text = subprocess.run(git + ["show", f"{behind}:{path}"], check=True, capture_output=True, text=True).stdout
    old_colon = re.compile(r"\)\s*(?:->[^:]*)?:\s*\n").search(old_text, re.search(rf"^def {re.escape(name)}\(", old_text, re.MULTILINE).end())
    late = old_text[: old_colon.end()] + f"{indent}_settle_benchmark = 1\n" + old_text[old_colon.end():]
    for branch, content, parent in (("bench/wide", wide, base), ("bench/body", body, base), ("bench/behind", late, behind)):
        blob = subprocess.run(git + ["hash-object", "-w", "--stdin"], input=content, check=True, capture_output=True,
                              text=True).stdout.strip()
        subprocess.run(git + ["read-tree", parent], check=True, env={**os.environ, "GIT_INDEX_FILE": str(workdir / "index")})
        env = {**os.environ, "GIT_INDEX_FILE": str(workdir / "index")}
        subprocess.run(git + ["update-index", "--cacheinfo", f"100644,{blob},{path}"], check=True, env=env)
        tree = subprocess.run(git + ["write-tree"], check=True, capture_output=True, text=True, env=env).stdout.strip()
        commit = subprocess.run(git + ["commit-tree", tree, "-p", parent, "-m", branch], check=True, capture_output=True,
                                text=True, env={**env, "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
                                                "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}).stdout.strip()
        subprocess.run(git + ["update-ref", f"refs/heads/{branch}", commit], check=True)
    spelled = subprocess.run(git + ["grep", "-l", "-F", name, base, "--", "*.py", "*.pyi"], capture_output=True,
                             text=True).stdout.count("\n")
    return clone, base, spelled


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(command: list[str], cwd: Path, env: dict) -> tuple[float, dict]:
    """(wall seconds, answer); the command's CPU seconds are appended to CPU_SECONDS."""
    start, cpu = time.perf_counter(), _cpu()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    CPU_SECONDS.append(_cpu() - cpu)
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}): {result.stderr[:500]}")
    verdict = json.loads(result.stdout)
    return seconds, {"verdict": verdict["verdict"], "findings": sorted(f["id"] for f in verdict["findings"])}


def measure(mirror: str, function: str, runs: int, previous: str | None, previous_venv: str | None) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="settle-bench-real-"))
    _compile_this_settle()
    try:
        old = str(Path(previous_venv) / "bin" / "settle") if previous_venv else previous_release(previous or "b444813", workdir)
        clone, base, spelled = candidates(mirror, function, workdir)
        files = subprocess.run(["git", "-C", str(clone), "ls-tree", "-r", "--name-only", base], check=True,
                               capture_output=True, text=True).stdout.split()
        python_files = sum(f.endswith(".py") for f in files)
        cache = workdir / "cache"
        env = {**os.environ, "SETTLE_CACHE_DIR": str(cache), "NO_COLOR": "1"}
        env.pop("SETTLE_NO_CACHE", None)
        results = {}
        for label, branch in (("wide", "bench/wide"), ("body", "bench/body"), ("behind", "bench/behind")):
            command = ["check", "--format", "json", "--base", base, branch]
            kinds = ("previous", "alone", "cold", "warm")  # alone: cold, with SETTLE_HELPERS=0
            timings: dict[str, list[float]] = {name: [] for name in kinds}
            cpu: dict[str, list[float]] = {name: [] for name in kinds}
            answers = {}
            for _ in range(runs):
                for name in kinds:
                    if name in ("alone", "cold"):
                        shutil.rmtree(cache, ignore_errors=True)
                    seconds, answers[name] = _timed([old if name == "previous" else SETTLE, *command], clone,
                                                    {**env, "SETTLE_HELPERS": "0"} if name == "alone" else env)
                    timings[name].append(seconds)
                    cpu[name].append(CPU_SECONDS[-1])
            same = answers["previous"] == answers["alone"] == answers["cold"] == answers["warm"]
            results[label] = {name: statistics.median(values) for name, values in timings.items()}
            results[label].update({f"{name}_cpu": statistics.median(values) for name, values in cpu.items()})
            results[label].update(same=same, findings=len(answers["cold"]["findings"]), all=timings, all_cpu=cpu)
        cache_bytes = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file()) if cache.exists() else 0
        return {"repository": mirror, "function": function, "python_files": python_files, "files_spelling_it": spelled,
                "behind": BEHIND,
                "results": results, "cache_bytes_after": cache_bytes}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _compile_this_settle() -> None:
    """Byte-compile this checkout's settle, as installing a wheel does for the previous release: an
    editable install run with PYTHONDONTWRITEBYTECODE (as CI hosts often set) would otherwise
    compile every module from source on every run, a tenth of a second the body-only case would
    count against this release alone."""
    import compileall

    import settle

    compileall.compile_dir(str(Path(settle.__file__).parent), quiet=1)


def report(measured: dict) -> None:
    print(f"real repository: {measured['repository']} ({measured['python_files']} Python files); "
          f"{measured['function']} spelled in {measured['files_spelling_it']} files")
    print(f"{'case':<34} {'previous s':>10} {'no helper':>9} {'cold s':>8} {'warm s':>8} {'cold/prev':>9} {'warm/prev':>9}  bars")
    wide, body, behind = (measured["results"][case] for case in ("wide", "body", "behind"))
    for label, row, bars in (
        (f"required first parameter ({wide['findings']} f.)", wide,
         f"cold<=40% {'yes' if wide['cold'] <= 0.4 * wide['previous'] else 'NO'}, "
         f"warm<=20% {'yes' if wide['warm'] <= 0.2 * wide['previous'] else 'NO'}"),
        ("body-only change", body,
         f"cold<=prev {'yes' if body['cold'] <= body['previous'] else 'NO'}, "
         f"warm<=0.3s {'yes' if body['warm'] <= 0.3 else 'NO'}"),
        (f"body-only, {measured['behind']} commits behind", behind,
         f"no bar; the helper saves {1 - behind['cold'] / behind['alone']:.0%}"),
    ):
        print(f"{label:<34} {row['previous']:>10.3f} {row['alone']:>9.3f} {row['cold']:>8.3f} {row['warm']:>8.3f} "
              f"{row['cold'] / row['previous']:>8.0%} {row['warm'] / row['previous']:>8.0%}  {bars}"
              f"{'' if row['same'] else '  FINDINGS DIFFER'}")
        print(f"{'  CPU s (user+sys)':<34} {row['previous_cpu']:>10.3f} {row['alone_cpu']:>9.3f} {row['cold_cpu']:>8.3f} "
              f"{row['warm_cpu']:>8.3f} {row['cold_cpu'] / row['previous_cpu']:>8.0%} {row['warm_cpu'] / row['previous_cpu']:>8.0%}")
    print(f"disk cache after the runs: {measured['cache_bytes_after'] / 1048576:.1f} MiB")
