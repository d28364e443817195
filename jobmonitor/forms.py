"""The CreateJobDialog's form, generated from a workflow's input JSON Schema.

`form_fields(schema)` lists one FormField per top-level property; the browser edits every
value as text (booleans as "true"/"false", string arrays one item per line), and
`build_payload(fields, values)` turns the texts back into a typed payload plus the inline
error of each field that does not parse or breaks a simple constraint. The API validates
the full schema again and its 422 details map back to fields with `field_errors`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

STRING, NUMBER, INTEGER, BOOLEAN, ENUM, STRING_LIST, JSON = (
    "string",
    "number",
    "integer",
    "boolean",
    "enum",
    "string_list",
    "json",
)
REQUIRED = "Required"


@dataclass
class FormField:
    name: str
    label: str
    kind: str
    required: bool = False
    description: str = ""
    options: list[str] = field(default_factory=list)
    options_json: bool = False  # the enum has non-string values: options are their JSON
    default: str = ""
    placeholder: str = ""
    minimum: float | None = None
    maximum: float | None = None


def form_fields(schema: dict[str, Any]) -> list[FormField]:
    """One field per property of an object schema, in the schema's order."""
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    return [_field(name, prop or {}, name in required) for name, prop in properties.items()]


def _field(name: str, prop: dict[str, Any], required: bool) -> FormField:
    kind = _kind(prop)
    default = prop.get("default")
    return FormField(
        name=name,
        label=str(prop.get("title") or name.replace("_", " ").capitalize()),
        kind=kind,
        required=required,
        description=str(prop.get("description") or ""),
        options=[_text(v) for v in prop.get("enum", [])],
        options_json=any(not isinstance(v, str) for v in prop.get("enum", [])),
        default="" if default is None else to_text(kind, default),
        placeholder=_placeholder(kind, prop),
        minimum=_number(prop.get("minimum")),
        maximum=_number(prop.get("maximum")),
    )


def _kind(prop: dict[str, Any]) -> str:
    types = prop.get("type")
    if isinstance(types, list):
        types = next((t for t in types if t != "null"), None)
    if "enum" in prop:
        return ENUM
    if types == "array" and (prop.get("items") or {}).get("type") == "string":
        return STRING_LIST
    return {"string": STRING, "number": NUMBER, "integer": INTEGER, "boolean": BOOLEAN}.get(
        str(types), JSON
    )


def _placeholder(kind: str, prop: dict[str, Any]) -> str:
    if kind == STRING_LIST:
        return "one item per line"
    if kind == JSON:
        return "JSON value"
    return (
        str(prop.get("examples", [""])[0])
        if isinstance(prop.get("examples"), list) and prop["examples"]
        else ""
    )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def to_text(kind: str, value: Any) -> str:
    """A payload value as the text its field edits."""
    if value is None:
        return ""
    if kind == BOOLEAN:
        return "true" if value is True else "false"
    if kind == STRING_LIST and isinstance(value, list):
        return "\n".join(str(v) for v in value)
    if isinstance(value, str) and kind != JSON:
        return value  # a string where the field wants another type: the text as typed
    if kind in (NUMBER, INTEGER) and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value)


def initial_values(
    fields: list[FormField], payload: dict[str, Any] | None = None
) -> dict[str, str]:
    """Each field's text: from `payload` when given (a re-run), else its default."""
    values = {}
    for f in fields:
        if payload is not None and f.name in payload:
            values[f.name] = to_text(f.kind, payload[f.name])
        elif f.kind == BOOLEAN and not f.default:
            values[f.name] = "false"
        else:
            values[f.name] = f.default
    return values


def build_payload(
    fields: list[FormField], values: dict[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The payload the texts describe, and an error message per field that is wrong."""
    payload: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        text = values.get(f.name, "")
        if f.kind != BOOLEAN and not text.strip():
            if f.required:
                errors[f.name] = REQUIRED
            continue
        try:
            payload[f.name] = parse_value(f, text)
        except ValueError as exc:
            errors[f.name] = str(exc)
    return payload, errors


def draft_payload(
    fields: list[FormField], values: dict[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The payload for the JSON tab: like `build_payload`, but a value that does not parse
    is kept as the text typed (a JSON string) rather than dropped, so switching tabs never
    loses input; the errors say which values those are. Empty fields are left out."""
    payload: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        text = values.get(f.name, "")
        if f.kind != BOOLEAN and not text.strip():
            continue
        try:
            payload[f.name] = parse_value(f, text)
        except ValueError as exc:
            payload[f.name], errors[f.name] = text, str(exc)
    return payload, errors


def kept_as_typed(errors: dict[str, str], fields: list[FormField]) -> str:
    """The JSON tab's note on values carried over as typed ("" when none)."""
    labels = {f.name: f.label for f in fields}
    if not errors:
        return ""
    listed = "; ".join(f"{labels.get(n, n)}: {msg}" for n, msg in errors.items())
    return f"Not valid, kept as typed (the API will refuse them): {listed}"


def parse_value(f: FormField, text: str) -> Any:
    """One field's typed value; ValueError carries the inline message."""
    if f.kind == BOOLEAN:
        return text.strip().lower() == "true"
    if f.kind == STRING:
        return text
    if f.kind == ENUM:
        if text not in f.options:
            raise ValueError(f"Choose one of: {', '.join(f.options)}")
        return json.loads(text) if f.options_json else text
    if f.kind == STRING_LIST:
        return [line.strip() for line in re.split(r"[\n,]", text) if line.strip()]
    if f.kind in (NUMBER, INTEGER):
        return _bounded(f, _parse_number(f.kind, text.strip()))
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"Not valid JSON: {exc.msg}") from None


def _parse_number(kind: str, text: str) -> int | float:
    if kind == INTEGER:
        if not re.fullmatch(r"[+-]?\d+", text):
            raise ValueError("Enter a whole number")
        return int(text)
    try:
        value = float(text)
    except ValueError:
        raise ValueError("Enter a number") from None
    if not math.isfinite(value):
        raise ValueError("Enter a finite number")
    return (
        int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value
    )


def _bounded(f: FormField, value: int | float) -> int | float:
    if f.minimum is not None and value < f.minimum:
        raise ValueError(f"Must be at least {_num(f.minimum)}")
    if f.maximum is not None and value > f.maximum:
        raise ValueError(f"Must be at most {_num(f.maximum)}")
    return value


def _num(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


def field_errors(details: Any, fields: list[FormField]) -> tuple[dict[str, str], list[str]]:
    """Split an API 422's details into messages per form field and the rest."""
    names = {f.name for f in fields}
    by_field: dict[str, str] = {}
    other: list[str] = []
    for problem in details if isinstance(details, list) else []:
        loc = [str(p) for p in problem.get("loc", [])] if isinstance(problem, dict) else []
        msg = str(problem.get("msg", "")) if isinstance(problem, dict) else str(problem)
        if loc[:1] == ["input_payload"]:
            loc = loc[1:]
        if loc and loc[0] in names:
            by_field.setdefault(loc[0], msg)
        else:
            other.append(f"{'.'.join(loc)}: {msg}" if loc else msg)
    return by_field, other


def json_text(payload: dict[str, Any]) -> str:
    return json.dumps(payload, indent=2, ensure_ascii=False)


def parse_json_payload(text: str) -> dict[str, Any]:
    """The JSON tab's text as a payload; ValueError with the message to show."""
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    if not isinstance(value, dict):
        raise ValueError("The input must be a JSON object")
    return value
