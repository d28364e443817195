"""Search inside runs: the filter language of `GET /jobs?search=`, the web monitor's search box
and `jobmonitor jobs --search`, parsed once here into typed terms and turned into SQL
conditions on `jobs j` (each value a bound parameter).

    input.mode=fast  input.records>100  metadata.operator=cli  output.rows exists
    error~"connection refused"  error_type=ValueError  failed_step=transform_data
    cost>=0.5  duration>90s  status=failed,cancelled  nightly        (free text: workflow / id)

Indexed forms: `=` on a payload path (GIN jsonb_path_ops containment), `error~` (trigram),
`error_type=` and `failed_step=` (partial btrees on the failed job's step and error type,
which the failure trigger sets), `cost` and `duration` ranges (btree). Not indexed: `!=`,
`exists`/`missing`, payload ranges (`input.records>100`), `~` on a payload path,
`error_type~`: they filter the newest-first scan.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from psycopg.types.json import Jsonb

from backend.errors import InvalidInput
from backend.jobs.states import J, JobStatus, sql_literal

PAYLOADS = {"input": "input_payload", "output": "output_payload", "metadata": "metadata"}
SCALARS = ("error", "error_type", "failed_step", "cost", "duration", "status")
COMPARE = ("=", "!=", ">=", "<=", ">", "<", "~")
PRESENCE = ("exists", "missing")
MAX_TERMS = 20
FAILED_JOB = sql_literal(J.FAILED)
_TERM = re.compile(r"^(?P<field>[A-Za-z_][\w.\-]*?)(?P<op>!=|>=|<=|=|>|<|~)(?P<value>.*)$", re.S)
_DURATION = re.compile(r"^(?P<n>\d+(?:\.\d+)?)(?P<unit>ms|s|m|h|d)?$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
HELP = (
    "terms: input.PATH=VALUE, output.PATH>N, metadata.PATH exists, error~TEXT, error_type=T, "
    "failed_step=KEY, cost>=N, duration>90s, status=failed; other words match the workflow "
    "name or a job id prefix"
)


@dataclass(frozen=True)
class Term:
    """One filter: `field` is a payload (`input`, `output`, `metadata`, with `path`) or one of
    SCALARS; `op` one of COMPARE or PRESENCE."""

    field: str
    path: tuple[str, ...]
    op: str
    value: Any


@dataclass(frozen=True)
class Search:
    terms: tuple[Term, ...]
    statuses: tuple[str, ...]
    text: str | None  # the free words: a workflow name part or a job id prefix


def parse(query: str) -> Search:
    """The terms of a search string; InvalidInput naming the term and what is wrong."""
    try:
        tokens = shlex.split(query)
    except ValueError as exc:
        raise _invalid(query, f"{exc}: close the quote") from None
    terms: list[Term] = []
    words: list[str] = []
    statuses: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        nxt = tokens[i + 1].lower() if i + 1 < len(tokens) else ""
        if nxt in PRESENCE and _is_payload_path(token):
            terms.append(_presence(token, nxt))
            i += 2
            continue
        match = _TERM.match(token)
        if match is None:
            words.append(token)
        elif match["field"] == "status":
            statuses.extend(_statuses(token, match["op"], match["value"]))
        else:
            terms.append(_term(token, match["field"], match["op"], match["value"]))
        i += 1
    if len(terms) > MAX_TERMS:
        raise _invalid(query, f"at most {MAX_TERMS} terms")
    return Search(tuple(terms), tuple(dict.fromkeys(statuses)), " ".join(words) or None)


def _invalid(term: str, msg: str) -> InvalidInput:
    return InvalidInput(
        f"invalid search term {term!r}: {msg}", [{"loc": ["query", "search"], "msg": msg}]
    )


def _is_payload_path(token: str) -> bool:
    head, dot, rest = token.partition(".")
    return head in PAYLOADS and bool(dot) and bool(rest)


def _path(token: str, field: str) -> tuple[str, tuple[str, ...]]:
    head, _, rest = field.partition(".")
    if head in PAYLOADS:
        keys = tuple(rest.split(".")) if rest else ()
        if not keys or not all(keys):
            raise _invalid(token, f"name a field inside {head}, e.g. {head}.mode")
        return head, keys
    if head not in SCALARS or rest:
        raise _invalid(token, f"unknown field {field!r}; {HELP}")
    return head, ()


def _presence(token: str, word: str) -> Term:
    head, keys = _path(token, token)
    return Term(head, keys, word, None)


def _term(token: str, field: str, op: str, raw: str) -> Term:
    head, keys = _path(token, field)
    if raw == "":
        raise _invalid(token, "a value is missing after the operator")
    if head in PAYLOADS:
        value = raw if op == "~" else _json_value(raw)
        if op in (">", ">=", "<", "<=") and (
            isinstance(value, bool) or not isinstance(value, int | float | str)
        ):
            raise _invalid(token, f"{op} compares with a number or a text")
        return Term(head, keys, op, value)
    if head in ("error", "error_type", "failed_step"):
        if op not in ("=", "~"):
            raise _invalid(token, f"{head} takes = or ~ (contains)")
        return Term(head, (), "~" if head == "error" else op, raw)
    if op == "~":
        raise _invalid(token, f"{head} takes =, !=, >, >=, < or <=")
    return Term(head, (), op, _number(token, raw) if head == "cost" else _seconds(token, raw))


def _json_value(raw: str) -> Any:
    """A value as JSON when it parses (100, 1.5, true, null, "007"), else as text."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _number(token: str, raw: str) -> Decimal:
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise _invalid(token, "cost is a number of US dollars, e.g. cost>0.5") from None
    if not value.is_finite():
        raise _invalid(token, "cost is a finite number")
    return value


def _seconds(token: str, raw: str) -> float:
    match = _DURATION.match(raw.strip())
    if match is None:
        raise _invalid(token, "duration is a number of seconds or 500ms, 90s, 5m, 2h, 1d")
    return float(match["n"]) * _UNITS[match["unit"]]


def _statuses(token: str, op: str, raw: str) -> list[str]:
    names = [s.strip() for s in raw.split(",") if s.strip()]
    allowed = [str(s) for s in JobStatus]
    if op != "=" or not names or any(n not in allowed for n in names):
        raise _invalid(token, f"status=NAME[,NAME...] with names from {', '.join(allowed)}")
    return names


# --- SQL --------------------------------------------------------------------------------------


def conditions(terms: tuple[Term, ...]) -> tuple[list[str], dict[str, Any]]:
    """SQL conditions on `jobs j` (the workspace is `%(ws)s`) and their parameters."""
    sql: list[str] = []
    params: dict[str, Any] = {}
    for i, term in enumerate(terms):
        condition, values = _condition(term, f"t{i}")
        sql.append(condition)
        params.update(values)
    return sql, params


def _condition(term: Term, p: str) -> tuple[str, dict[str, Any]]:
    if term.field in PAYLOADS:
        return _payload_condition(f"j.{PAYLOADS[term.field]}", term, p)
    if term.field == "error":
        return f"j.error_message ILIKE %({p})s", {p: _contains(term.value)}
    if term.field in ("error_type", "failed_step"):
        like = term.op == "~"
        return (
            f"j.{term.field} {'ILIKE' if like else '='} %({p})s AND j.status = {FAILED_JOB}",
            {p: _contains(term.value) if like else term.value},
        )
    sql_op = "<>" if term.op == "!=" else term.op
    if term.field == "cost":
        return f"j.total_cost {sql_op} %({p})s", {p: term.value}
    return (
        f"(j.completed_at - j.started_at) {sql_op} make_interval(secs => %({p})s)",
        {p: term.value},
    )


def _payload_condition(column: str, term: Term, p: str) -> tuple[str, dict[str, Any]]:
    path = "$" + "".join("." + json.dumps(k) for k in term.path)
    if term.op in ("=", "!="):
        contains = f"{column} @> %({p})s"
        sql = contains if term.op == "=" else f"NOT coalesce({contains}, false)"
        return sql, {p: Jsonb(_nest(term.path, term.value))}
    if term.op in PRESENCE:
        exists = f"{column} @? %({p})s::jsonpath"
        return (exists if term.op == "exists" else f"NOT coalesce({exists}, false)"), {p: path}
    if term.op == "~":
        return (
            f"({column} #>> %({p})s::text[]) ILIKE %({p}v)s",
            {p: list(term.path), f"{p}v": _contains(term.value)},
        )
    return f"{column} @? %({p})s::jsonpath", {p: f"{path} ? (@ {term.op} {json.dumps(term.value)})"}


def _nest(path: tuple[str, ...], value: Any) -> Any:
    for key in reversed(path):
        value = {key: value}
    return value


def _contains(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
