"""Plans: many tasks, each with a branch, dependencies and claims. settle's format and dgov's, as they are.

settle's plan (one file):               dgov's plan, as dgov writes it:
  [tasks.add-retry]                       _root.toml      [plan] name, sections = ["tasks"]
  branch = "agent/add-retry"              tasks/http.toml [tasks.add-retry]
  depends_on = ["client"]                                 depends_on = ["client"]
  [tasks.add-retry.claims]                                prompt = "..."        # ignored
  edit = ["src/a.py::Client.send"]                        files.edit = ["src/a.py"]
                                                          files.touch = ["src/b.py"]  # create or edit

A dgov directory's task ids are `<section>/<file stem>.<slug>` (`tasks/http.add-retry`),
and a bare `depends_on` entry names a task of the same file, as in dgov. A single dgov
file (a `[plan]` table, or tasks with `files`, e.g. dgov's `_compiled.toml`) keeps its ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from settle.bind.claims import ClaimsDocument, ClaimSet, TaskClaims, validate
from settle.bind.patterns import PatternError, parse_pattern
from settle.errors import ConfigError, SettleError
from settle.config import load_toml


@dataclass(frozen=True)
class Task:
    id: str
    branch: str
    depends_on: tuple[str, ...]
    claims: ClaimsDocument


@dataclass(frozen=True)
class Plan:
    source: str
    dialect: str  # "settle" | "dgov"
    tasks: dict[str, Task]  # in file order


def _task_id(value: str) -> str:
    if not value.strip() or value != value.strip():
        raise ValueError(f"task id {value!r} is empty or has surrounding whitespace; name tasks [tasks.<id>]")
    return value


class _SettleTask(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    branch: str | None = Field(default=None, min_length=1)
    depends_on: list[str] = Field(default_factory=list)
    description: str | None = None
    claims: ClaimSet = Field(default_factory=ClaimSet)


class _SettlePlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    description: str | None = None
    tasks: dict[str, _SettleTask]

    @field_validator("tasks")
    @classmethod
    def _ids(cls, tasks):
        for task_id in tasks:
            _task_id(task_id)
        return tasks


class _DgovFiles(BaseModel):
    # The claims part of a dgov task is validated fail-closed like settle's own claims.
    model_config = ConfigDict(extra="forbid", frozen=True)
    create: list[str] = Field(default_factory=list)
    edit: list[str] = Field(default_factory=list)
    delete: list[str] = Field(default_factory=list)
    read: list[str] | None = None
    touch: list[str] = Field(default_factory=list)

    @field_validator("create", "edit", "delete", "read", "touch")
    @classmethod
    def _file_paths(cls, values):
        return [_dgov_path(value) for value in values or ()] if values is not None else None


def _dgov_path(value: str) -> str:
    """dgov claims whole files (or directories) by path; `./a` and `dir/` are dgov's spellings."""
    if "::" in value:
        raise PatternError(value, "is a symbol; dgov file claims are paths (use a settle plan for symbol claims)")
    path = value.strip()
    while path.startswith("./"):
        path = path[2:]
    if path.endswith("/") and path.strip("/"):
        path = path.rstrip("/") + "/**"
    parse_pattern(path)
    return path


class _DgovTask(BaseModel):
    # dgov tasks carry prompts, agents, roles, test commands…: not ours to judge.
    model_config = ConfigDict(extra="ignore", frozen=True)
    branch: str | None = Field(default=None, min_length=1)
    depends_on: list[str] = Field(default_factory=list)
    files: _DgovFiles | list[str] = Field(default_factory=_DgovFiles)

    def claims(self) -> ClaimSet:
        files = self.files if isinstance(self.files, _DgovFiles) else _DgovFiles(touch=self.files)
        return ClaimSet(create=files.create + files.touch, edit=files.edit + files.touch, delete=files.delete, read=files.read)


def load_plan(path: str, branch_template: str = "{task}") -> Plan:
    target = Path(path)
    if target.is_dir():
        return _load_dgov_directory(target, branch_template)
    document = load_toml(path, "plan file")
    tasks = document.get("tasks")
    if not isinstance(tasks, dict) or not tasks:
        raise ConfigError(f"plan file {path}: no [tasks.<id>] tables; a plan lists its tasks as [tasks.<id>]")
    if _is_dgov(document, path):
        return _dgov_plan(path, [(task_id, raw, path, None) for task_id, raw in tasks.items()], branch_template)
    plan = validate(_SettlePlan, document, path)
    return Plan(path, "settle", {
        task_id: Task(task_id, task.branch or _branch(branch_template, task_id, path), tuple(task.depends_on),
                      ClaimsDocument(candidate=None, claims=task.claims))
        for task_id, task in plan.tasks.items()
    })


def _is_dgov(document: dict, path: str) -> bool:
    """dgov files have a [plan] table or tasks with `files`; settle's have neither."""
    tasks = [task for task in document["tasks"].values() if isinstance(task, dict)]
    dgov = "plan" in document or any("files" in task for task in tasks)
    if dgov and any("claims" in task for task in tasks):
        raise ConfigError(f"plan file {path} mixes settle's [tasks.<id>.claims] with dgov's `files` or [plan]; use one format")
    return dgov


def _load_dgov_directory(directory: Path, branch_template: str) -> Plan:
    root = directory / "_root.toml"
    if not root.is_file():
        raise ConfigError(f"plan directory {directory} has no _root.toml; give a plan file, or a dgov plan directory")
    meta = load_toml(str(root), "plan file")
    sections = (meta.get("plan") or {}).get("sections") if isinstance(meta.get("plan"), dict) else None
    if sections is None:
        # dgov declares its sections; without the list, every subdirectory is one.
        sections = sorted(child.name for child in directory.iterdir() if child.is_dir() and not child.name.startswith((".", "_")))
    if not isinstance(sections, list) or not all(isinstance(s, str) and s and "/" not in s and s not in (".", "..") for s in sections):
        raise ConfigError(f"{root}: [plan].sections must be a list of section directory names, e.g. sections = [\"tasks\"]")
    entries = []
    for section in sections:
        folder = directory / section
        if not folder.is_dir():
            raise ConfigError(f"{root}: section '{section}' has no directory {folder}; create it or drop it from [plan].sections")
        # dgov skips hidden and `_`-prefixed files (`_example.toml`, `_compiled.toml`).
        for file in sorted(p for p in folder.glob("*.toml") if p.is_file() and not p.name.startswith((".", "_"))):
            tasks = load_toml(str(file), "plan file").get("tasks", {})
            if not isinstance(tasks, dict):
                raise ConfigError(f"plan file {file}: `tasks` must be tables [tasks.<slug>]")
            for slug, raw in tasks.items():
                entries.append((f"{section}/{file.stem}.{slug}", raw, str(file), f"{section}/{file.stem}"))
    if not entries:
        raise ConfigError(f"plan directory {directory} defines no [tasks.<slug>] in its sections {sections}")
    return _dgov_plan(str(directory), entries, branch_template)


def _dgov_plan(source: str, entries: list[tuple[str, object, str, str | None]], branch_template: str) -> Plan:
    """entries: (task id, raw table, file it came from, the file's scope for bare dependencies)."""
    result: dict[str, Task] = {}
    for task_id, raw, file, scope in entries:
        if task_id in result:
            raise ConfigError(f"plan file {file}: task id '{task_id}' is defined twice; task ids must be unique")
        if not isinstance(raw, dict):
            raise ConfigError(f"plan file {file}: tasks.{task_id} must be a table [tasks.{task_id.rsplit('.', 1)[-1]}]")
        task = validate(_DgovTask, raw, file, prefix=("tasks", task_id.rsplit(".", 1)[-1] if scope else task_id))
        depends = tuple(_dgov_dependency(dependency, scope) for dependency in task.depends_on)
        result[task_id] = Task(task_id, task.branch or _branch(branch_template, task_id, source), depends,
                               ClaimsDocument(candidate=None, claims=task.claims()))
    return Plan(source, "dgov", result)


def _dgov_dependency(reference: str, scope: str | None) -> str:
    """dgov: a reference with '/' is a full id; a bare one names a task of the same file."""
    if scope is None or "/" in reference:
        return reference
    return f"{scope}.{reference}"


def _branch(template: str, task_id: str, source: str) -> str:
    try:
        branch = template.format(task=task_id)
    except (KeyError, IndexError, ValueError) as error:
        raise SettleError(f"--branch-template {template!r} is not a template of {{task}} (plan {source}); e.g. 'agent/{{task}}'") from error
    if "{task}" not in template:
        raise SettleError(f"--branch-template {template!r} has no {{task}}: every task would be the same branch; e.g. 'agent/{{task}}'")
    return branch


def dependency_problems(plan: Plan) -> tuple[list[tuple[str, str]], list[list[str]]]:
    """(unknown dependencies as (task, dependency), cycles as task lists)."""
    unknown = [(task.id, dep) for task in plan.tasks.values() for dep in task.depends_on if dep not in plan.tasks]
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(task_id: str) -> None:
        state[task_id] = 1
        stack.append(task_id)
        for dep in plan.tasks[task_id].depends_on:
            if dep not in plan.tasks:
                continue
            if state.get(dep) == 1:
                cycles.append(stack[stack.index(dep):] + [dep])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[task_id] = 2

    for task_id in plan.tasks:
        if task_id not in state:
            visit(task_id)
    return unknown, cycles


def topological_order(plan: Plan) -> list[str]:
    """Dependencies first; ties keep the plan's order. Cycles are broken where they are met."""
    order: list[str] = []
    placed: set[str] = set()

    def place(task_id: str) -> None:
        if task_id in placed:
            return
        placed.add(task_id)
        for dep in plan.tasks[task_id].depends_on:
            if dep in plan.tasks:
                place(dep)
        order.append(task_id)

    for task_id in plan.tasks:
        place(task_id)
    return order


def ancestors(plan: Plan) -> dict[str, set[str]]:
    """Every task's transitive dependencies."""
    result: dict[str, set[str]] = {}
    for task_id in plan.tasks:
        seen: set[str] = set()
        pending = [dep for dep in plan.tasks[task_id].depends_on if dep in plan.tasks]
        while pending:
            dep = pending.pop()
            if dep not in seen:
                seen.add(dep)
                pending.extend(d for d in plan.tasks[dep].depends_on if d in plan.tasks)
        result[task_id] = seen
    return result


def plan_candidates(repository, plan_path: str, branch_template: str):
    """Candidates for `check --plan`: the plan's tasks in dependency order, each with its claims."""
    from settle.settlement import Candidate

    plan = load_plan(plan_path, branch_template)
    unknown, cycles = dependency_problems(plan)
    if unknown:
        raise SettleError(f"plan {plan_path}: task '{unknown[0][0]}' depends on unknown task '{unknown[0][1]}'; run `settle plan lint`")
    if cycles:
        raise SettleError(f"plan {plan_path}: tasks depend on each other in a cycle ({' → '.join(cycles[0])}); run `settle plan lint`")
    commits: dict[str, str] = {}
    for task_id in topological_order(plan):
        task = plan.tasks[task_id]
        try:
            commits[task_id] = repository.resolve(task.branch)
        except SettleError as error:
            raise SettleError(f"plan {plan_path}: task '{task_id}' (branch {task.branch}): {error}; "
                              f"name its branch with `branch =` or --branch-template") from error
    before = ancestors(plan)
    return [
        Candidate(plan.tasks[task_id].branch, commit, claims_source=f"{plan_path}#{task_id}",
                  claims=TaskClaims(plan.tasks[task_id].claims,
                                    since=_stacked_on(repository, commit, [commits[d] for d in before[task_id]]),
                                    depends_on=tuple(plan.tasks[d].branch for d in plan.tasks[task_id].depends_on)))
        for task_id, commit in commits.items()
    ]


def hold_dependents(settlement, dependencies: dict[str, tuple[str, ...]]):
    """A task that depends on a held task cannot land either: it is held by what holds its dependency."""
    from settle.document import Settlement

    held = {name: list(ids) for name, ids in settlement.held.items()}
    changed = True
    while changed:
        changed = False
        for name, depends in dependencies.items():
            blockers = {b for dep in depends if dep in held for b in held[dep]} - set(held.get(name, ()))
            if blockers:
                held[name] = sorted(blockers | set(held.get(name, ())))
                changed = True
    return Settlement(order=[name for name in settlement.order if name not in held], held=held)


def candidate_dependencies(candidates) -> dict[str, tuple[str, ...]]:
    return {c.ref: c.claims.depends_on for c in candidates if isinstance(c.claims, TaskClaims)}


def _stacked_on(repository, commit: str, dependencies: list[str]) -> str | None:
    """The dependency tip this task's branch was built on, when one contains all the others it contains."""
    contained = [d for d in dependencies if d != commit and repository.is_ancestor(d, commit)]
    latest = [d for d in contained if all(other == d or repository.is_ancestor(other, d) for other in contained)]
    return latest[0] if latest else None
