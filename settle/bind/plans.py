"""Plans: many tasks, each with a branch, dependencies and claims. settle's format and dgov's, as they are.

settle's plan:                          dgov's plan (a file, or a directory of
  [tasks.add-retry]                     _root.toml + tasks/*.toml):
  branch = "agent/add-retry"              [tasks.add-retry]
  depends_on = ["client"]                 depends_on = ["client"]
  [tasks.add-retry.claims]                prompt = "..."          # ignored
  edit = ["src/a.py::Client.send"]        files.edit = ["src/a.py"]
                                          files.touch = ["src/b.py"]   # create or edit
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from settle.bind.claims import ClaimsDocument, ClaimSet, parse_pattern, validate
from settle.errors import ConfigError, SettleError
from settle.verdict import load_toml


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


class _SettleTask(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    branch: str | None = None
    depends_on: list[str] = Field(default_factory=list)
    description: str | None = None
    claims: ClaimSet = Field(default_factory=ClaimSet)


class _SettlePlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    description: str | None = None
    tasks: dict[str, _SettleTask]


class _DgovFiles(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    create: list[str] = Field(default_factory=list)
    edit: list[str] = Field(default_factory=list)
    delete: list[str] = Field(default_factory=list)
    read: list[str] | None = None
    touch: list[str] = Field(default_factory=list)

    @field_validator("create", "edit", "delete", "read", "touch")
    @classmethod
    def _file_paths(cls, values):
        for value in values or ():
            if "::" in str(value):
                raise ValueError(f"dgov file claims are paths, not symbols: {value!r}")
            parse_pattern(value)
        return values


class _DgovTask(BaseModel):
    # dgov tasks carry prompts, agents, roles, test commands…: not ours to judge.
    model_config = ConfigDict(extra="ignore", frozen=True)
    branch: str | None = None
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
    if any(isinstance(task, dict) and "files" in task for task in tasks.values()):
        return _dgov_plan(path, {"tasks": tasks}, branch_template)
    plan = validate(_SettlePlan, document, path)
    return Plan(path, "settle", {
        task_id: Task(task_id, task.branch or _branch(branch_template, task_id, path), tuple(task.depends_on),
                      ClaimsDocument(candidate=None, claims=task.claims))
        for task_id, task in plan.tasks.items()
    })


def _load_dgov_directory(directory: Path, branch_template: str) -> Plan:
    files = sorted((directory / "tasks").glob("*.toml"))
    root = directory / "_root.toml"
    if not root.exists() and not files:
        raise ConfigError(f"plan directory {directory} has neither _root.toml nor tasks/*.toml")
    tasks: dict[str, dict] = {}
    origin: dict[str, str] = {}
    for file in ([root] if root.exists() else []) + files:
        for task_id, task in load_toml(str(file), "plan file").get("tasks", {}).items():
            if task_id in tasks:
                raise ConfigError(f"plan file {file}: task id '{task_id}' is already defined in {origin[task_id]}; task ids must be unique")
            tasks[task_id], origin[task_id] = task, str(file)
    if not tasks:
        raise ConfigError(f"plan directory {directory} defines no [tasks.<id>]")
    return _dgov_plan(str(directory), {"tasks": tasks}, branch_template)


def _dgov_plan(source: str, document: dict, branch_template: str) -> Plan:
    result = {}
    for task_id, raw in document["tasks"].items():
        if not isinstance(raw, dict):
            raise ConfigError(f"plan {source}: tasks.{task_id} must be a table")
        task = validate(_DgovTask, raw, source)
        result[task_id] = Task(task_id, task.branch or _branch(branch_template, task_id, source), tuple(task.depends_on),
                               ClaimsDocument(candidate=None, claims=task.claims()))
    return Plan(source, "dgov", result)


def _branch(template: str, task_id: str, source: str) -> str:
    try:
        return template.format(task=task_id)
    except (KeyError, IndexError, ValueError) as error:
        raise SettleError(f"--branch-template {template!r} is not a template of {{task}} (plan {source})") from error


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
    """Dependencies first; ties keep the plan's order. Assumes no cycles."""
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

    def collect(task_id: str, seen: set[str]) -> set[str]:
        if task_id in result:
            return result[task_id]
        found: set[str] = set()
        for dep in plan.tasks[task_id].depends_on:
            if dep in plan.tasks and dep not in seen:
                found |= {dep} | collect(dep, seen | {dep})
        result[task_id] = found
        return found

    for task_id in plan.tasks:
        collect(task_id, {task_id})
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
    candidates = []
    for task_id in topological_order(plan):
        task = plan.tasks[task_id]
        try:
            commit = repository.resolve(task.branch)
        except SettleError as error:
            raise SettleError(f"plan {plan_path}: task '{task_id}': {error}") from error
        candidates.append(Candidate(task.branch, commit, claims=task.claims, claims_source=f"{plan_path}#{task_id}"))
    return candidates
