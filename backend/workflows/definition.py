"""Workflow definitions: the pydantic schema, and `parse_definition()` which checks a JSON or
YAML document and lists every problem with its path (unknown action, cycle, missing or
duplicate step, bad condition, bad input schema), never only the first."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
)

from backend.errors import InvalidDefinition
from backend.workflows import expressions

KEY_PATTERN = r"^[a-z][a-z0-9_]{0,99}$"
REVIEW_ACTION = "jobmonitor.review"  # a review gate's default action: its output is the review
# fields of a step that only human steps use, left out of a definition's stored form (and of
# its content hash) while they have their defaults, so older definitions keep their hash
HUMAN_FIELDS = {
    "action": None,  # a review gate may leave it out (its default action is REVIEW_ACTION)
    "run": "auto",
    "input_schema": None,
    "repeatable": False,
    "items_from": None,
    "editable": None,
    "auto_when": None,
}


class RetryPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(default=1, ge=1, le=100)
    backoff_seconds: float = Field(default=1.0, ge=0, le=86400)
    factor: float = Field(default=2.0, ge=1, le=10)
    max_backoff_seconds: float = Field(default=300.0, ge=0, le=86400)

    def delay(self, failed_attempt: int) -> float:
        """Seconds to wait after attempt number `failed_attempt` (1-based) failed."""
        delay = self.backoff_seconds * self.factor ** (failed_attempt - 1)
        return float(min(delay, self.max_backoff_seconds))


class StepDefinition(BaseModel):
    """A step. `run` says who starts it: the engine (`auto`), a person with a payload
    (`manual`, validated against `input_schema`), or a person's review of the items of an
    upstream step (`review`, over `items_from`, with `editable` fields). `auto_when` (a
    condition) lets a manual step or a gate run by itself, for hands-free jobs."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(default="", max_length=200)
    action: str | None = Field(default=None, min_length=1, max_length=200)
    params: dict[str, Any] = Field(default_factory=dict)
    depends_on: list[str] = Field(default_factory=list)
    condition: str | None = None
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    timeout_seconds: float | None = Field(default=None, gt=0, le=86400)
    run: Literal["auto", "manual", "review"] = "auto"
    input_schema: dict[str, Any] | None = None
    repeatable: bool = False
    items_from: str | None = Field(default=None, pattern=KEY_PATTERN)
    editable: dict[str, dict[str, Any]] | None = Field(default=None, max_length=50)
    auto_when: str | None = Field(default=None, max_length=2000)

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for name, default in HUMAN_FIELDS.items():
            if data.get(name, default) == default:
                data.pop(name, None)
        return data

    @property
    def title(self) -> str:
        return self.name or self.key.replace("_", " ").capitalize()

    @property
    def effective_action(self) -> str:
        return self.action or (REVIEW_ACTION if self.run == "review" else "")


class ConcurrencyPolicy(BaseModel):
    """Safety checks: duplicate detection and a rate limit per workflow."""

    model_config = ConfigDict(extra="forbid")

    max_concurrent_jobs: int | None = Field(default=None, ge=1, le=10000)
    min_seconds_between_starts: float | None = Field(default=None, gt=0, le=86400)


class WorkflowDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
    description: str = Field(default="", max_length=2000)
    input_schema: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})
    concurrency: ConcurrencyPolicy = Field(default_factory=ConcurrencyPolicy)
    snapshot: str | None = Field(default=None, max_length=200)
    expected_work: str | None = Field(
        default=None, max_length=200, description="A registered pending-work estimate function."
    )
    steps: list[StepDefinition] = Field(min_length=1, max_length=500)

    @field_validator("input_schema")
    @classmethod
    def _object_schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        if schema.get("type", "object") != "object":
            raise ValueError("the input schema must describe an object (type: object)")
        return schema

    def step(self, key: str) -> StepDefinition:
        return next(s for s in self.steps if s.key == key)

    def order(self) -> list[StepDefinition]:
        """Steps in a topological order that keeps the written order where it can."""
        done: set[str] = set()
        ordered: list[StepDefinition] = []
        while len(ordered) < len(self.steps):
            for s in self.steps:
                if s.key not in done and all(d in done for d in s.depends_on):
                    ordered.append(s)
                    done.add(s.key)
                    break
        return ordered

    def content_hash(self) -> str:
        data = self.model_dump(mode="json")
        if data.get("expected_work") is None:  # added later: unset, older documents keep their hash
            data.pop("expected_work", None)
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


Problem = dict[str, Any]


def load_document(text: str, filename: str = "") -> Any:
    """Parse JSON or YAML text (YAML is a superset; the name only picks the error wording)."""
    import yaml  # here, not at the top: workers import this module and never parse documents

    try:
        if filename.endswith(".json"):
            return json.loads(text)
        return yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InvalidDefinition(
            "the definition is not valid JSON or YAML",
            [{"loc": [], "msg": str(exc).splitlines()[0]}],
        ) from None


def parse_definition(document: Any, actions: Iterable[str] | None = None) -> WorkflowDefinition:
    """Validate a definition; `actions` (registered step names) enables the unknown-action check.
    Raises InvalidDefinition whose details list every problem as {"loc": [...], "msg": ...}:
    the structural ones and, on whatever of the steps parsed, the graph ones, in one answer."""
    known = None if actions is None else set(actions)
    try:
        definition = WorkflowDefinition.model_validate(document)
    except ValidationError as exc:
        problems = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        problems += [p for p in _graph(_steps_of(document), known) if p not in problems]
        schema = document.get("input_schema") if isinstance(document, dict) else None
        if isinstance(schema, dict) and not any(p["loc"][:1] == ["input_schema"] for p in problems):
            problems += _input_schema(schema)
        raise InvalidDefinition(_summary(problems), problems) from None
    problems = check_definition(definition, known)
    if problems:
        raise InvalidDefinition(_summary(problems), problems)
    return definition


def _summary(problems: list[Problem]) -> str:
    return f"invalid workflow definition: {len(problems)} problem(s)"


@dataclass(frozen=True)
class _Step:
    """What the graph checks read of a step, from a document that may not be valid."""

    index: int
    key: str
    action: str | None  # the effective action (a review gate's default when it has none)
    depends_on: tuple[str, ...]
    condition: str | None


def _steps_of(document: Any) -> list[_Step]:
    """The steps of a (possibly invalid) document that have a key, with the fields of the
    right type (the others are left out: the schema check reports them)."""
    raw = document.get("steps") if isinstance(document, dict) else None
    steps = []
    for i, step in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(step, dict) or not isinstance(step.get("key"), str):
            continue
        deps = step.get("depends_on")
        review = step.get("run") == "review"
        steps.append(
            _Step(
                index=i,
                key=step["key"],
                action=_text(step.get("action")) or (REVIEW_ACTION if review else None),
                depends_on=tuple(d for d in deps if isinstance(d, str))
                if isinstance(deps, list)
                else (),
                condition=_text(step.get("condition")),
            )
        )
    return steps


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def check_definition(definition: WorkflowDefinition, actions: set[str] | None) -> list[Problem]:
    steps = _steps_of(definition.model_dump(mode="json"))
    human = [p for i, s in enumerate(definition.steps) for p in _human_step(steps, i, s)]
    return _graph(steps, actions) + human + _input_schema(definition.input_schema)


def _graph(steps: list[_Step], actions: set[str] | None) -> list[Problem]:
    problems: list[Problem] = []
    first: dict[str, int] = {}
    for s in steps:
        first.setdefault(s.key, s.index)
    for s in steps:
        at = ["steps", s.index]
        if first[s.key] != s.index:
            problems.append({"loc": [*at, "key"], "msg": f"duplicate step key {s.key!r}"})
        if s.action is None:
            problems.append({"loc": [*at, "action"], "msg": "a step needs an action"})
        elif actions is not None and s.action not in actions:
            problems.append({"loc": [*at, "action"], "msg": f"unknown action {s.action!r}"})
        for j, dep in enumerate(s.depends_on):
            if dep not in first:
                problems.append({"loc": [*at, "depends_on", j], "msg": f"unknown step {dep!r}"})
            elif dep == s.key:
                problems.append(
                    {"loc": [*at, "depends_on", j], "msg": "a step cannot depend on itself"}
                )
    return problems + _cycles(steps) + _conditions(steps)


def _human_step(steps: list[_Step], i: int, s: StepDefinition) -> list[Problem]:
    """The fields of manual steps and review gates, each only where it means something."""
    at: list[Any] = ["steps", i]
    problems: list[Problem] = []
    only = {"input_schema": "manual", "repeatable": "manual", "items_from": "review"}
    only["editable"] = "review"
    for name, kind in only.items():
        if getattr(s, name) not in (None, False) and s.run != kind:
            problems.append({"loc": [*at, name], "msg": f"{name} is for run: {kind} steps"})
    if s.auto_when is not None and s.run == "auto":
        problems.append(
            {"loc": [*at, "auto_when"], "msg": "auto_when is for manual or review steps"}
        )
    if s.input_schema is not None:
        problems += [{**p, "loc": [*at, *p["loc"]]} for p in _input_schema(s.input_schema)]
    for name, schema in (s.editable or {}).items():
        problems += [
            {**p, "loc": [*at, "editable", name, *p["loc"][1:]]} for p in _input_schema(schema)
        ]
    if s.run == "review":
        if s.items_from is None:
            problems.append({"loc": [*at, "items_from"], "msg": "a review gate needs items_from"})
        elif s.items_from not in s.depends_on:
            problems.append(
                {"loc": [*at, "items_from"], "msg": f"{s.items_from!r} is not in depends_on"}
            )
    if s.auto_when is not None:
        problems += _expression(steps, s.key, s.auto_when, [*at, "auto_when"])
    return problems


def _cycles(steps: list[_Step]) -> list[Problem]:
    graph: dict[str, list[str]] = {}
    index: dict[str, int] = {}
    for s in steps:
        graph.setdefault(s.key, [d for d in s.depends_on if d != s.key])
        index.setdefault(s.key, s.index)
    state: dict[str, int] = {}  # 1 visiting, 2 done
    found: list[Problem] = []

    def visit(key: str, path: list[str]) -> None:
        state[key] = 1
        for dep in graph.get(key, []):
            if dep not in graph:
                continue
            if state.get(dep) == 1:
                cycle = [*path[path.index(dep) :], dep] if dep in path else [key, dep]
                found.append(
                    {
                        "loc": ["steps", index[key], "depends_on"],
                        "msg": "dependency cycle: " + " -> ".join(cycle),
                    }
                )
            elif state.get(dep) is None:
                visit(dep, [*path, dep])
        state[key] = 2

    for key in graph:
        if key not in state:
            visit(key, [key])
    return found


def _conditions(steps: list[_Step]) -> list[Problem]:
    problems: list[Problem] = []
    for s in steps:
        if s.condition is not None:
            problems += _expression(steps, s.key, s.condition, ["steps", s.index, "condition"])
    return problems


def _expression(steps: list[_Step], key: str, text: str, loc: list[Any]) -> list[Problem]:
    """A condition (or auto_when) that parses and reads only upstream steps."""
    try:
        tree = expressions.parse(text)
    except expressions.ExpressionError as exc:
        return [{"loc": loc, "msg": f"invalid condition: {exc}"}]
    upstream = _ancestors(steps, key)
    return [
        {"loc": loc, "msg": f"condition reads steps.{dep}, which is not upstream of {key!r}"}
        for dep in sorted(expressions.referenced_steps(tree) - upstream)
    ]


def ancestors(definition: WorkflowDefinition, key: str) -> set[str]:
    """The keys of every step `key` depends on, directly or not."""
    return _ancestors(definition.steps, key)


class _Node(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def depends_on(self) -> Sequence[str]: ...


def _ancestors(steps: Sequence[_Node], key: str) -> set[str]:
    by_key: dict[str, _Node] = {}
    for s in steps:
        by_key.setdefault(s.key, s)
    seen: set[str] = set()
    stack = list(by_key[key].depends_on) if key in by_key else []
    while stack:
        dep = stack.pop()
        if dep in seen or dep not in by_key:
            continue
        seen.add(dep)
        stack.extend(by_key[dep].depends_on)
    return seen


def _input_schema(schema: dict[str, Any]) -> list[Problem]:
    from backend.workflows import input_schema  # here: workers import this module, not jsonschema

    return input_schema.check(schema)


def apply_defaults(schema: dict[str, Any], payload: Any) -> Any:
    """The payload with the `default` of every absent property filled in (nested objects
    too), so conditions and steps see what the schema promises."""
    if not isinstance(payload, dict) or not isinstance(schema.get("properties"), dict):
        return payload
    filled = dict(payload)
    for name, sub in schema["properties"].items():
        if not isinstance(sub, dict):
            continue
        if name not in filled and "default" in sub:
            filled[name] = sub["default"]
        if name in filled:
            filled[name] = apply_defaults(sub, filled[name])
    return filled
