"""A workflow's input schema (JSON Schema 2020-12): checked when the workflow is registered and
applied to every job's payload.

`$ref`s resolve only inside the document, never over the network or from files: the
validators' registry refuses every retrieval, and registration refuses a reference whose
target is not the document itself or a subschema it names with `$id` (SSRF: a remote `$ref`
once made the API fetch a URL on every job creation).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urldefrag, urljoin

import jsonschema
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource, Unresolvable
from referencing.jsonschema import DRAFT202012

Problem = dict[str, Any]

_REF_KEYWORDS = ("$ref", "$dynamicRef")
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})  # values, not subschemas


def _refuse(uri: str) -> Resource[Any]:
    raise NoSuchResource(uri)  # no network, no files: nothing is ever retrieved


# every lookup outside the document fails (attrs' generated __init__ is invisible to mypy)
_LOCAL_ONLY: Registry[Any] = Registry(retrieve=_refuse)  # type: ignore[call-arg]


def _validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        schema,
        registry=_LOCAL_ONLY,
        format_checker=jsonschema.FormatChecker(),
    )


def _refs(node: Any, base: str, path: list[Any]) -> Iterator[tuple[list[Any], str, str]]:
    """Every (path, reference, absolute target) in the document, following `$id` bases."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _refs(item, base, [*path, i])
        return
    if not isinstance(node, dict):
        return
    if isinstance(node.get("$id"), str):
        base = urljoin(base, node["$id"])
    for key, value in node.items():
        if key in _REF_KEYWORDS and isinstance(value, str):
            yield [*path, key], value, urljoin(base, value)
        elif key not in _DATA_KEYWORDS:
            yield from _refs(value, base, [*path, key])


def _ids(node: Any, base: str) -> Iterator[str]:
    """The base URI of the document and of every subschema with an `$id`."""
    if isinstance(node, list):
        for item in node:
            yield from _ids(item, base)
    elif isinstance(node, dict):
        if isinstance(node.get("$id"), str):
            base = urljoin(base, node["$id"])
            yield urldefrag(base).url
        for key, value in node.items():
            if key not in _DATA_KEYWORDS:
                yield from _ids(value, base)


def ref_problems(schema: dict[str, Any]) -> list[Problem]:
    """Each `$ref` that points outside the document or at nothing inside it."""
    inside = {"", *_ids(schema, "")}
    resolver = _LOCAL_ONLY.resolver_with_root(DRAFT202012.create_resource(schema))
    problems: list[Problem] = []
    for path, ref, target in _refs(schema, "", []):
        loc = ["input_schema", *path]
        if urldefrag(target).url not in inside:
            msg = f"$ref {ref!r} points outside the document; only references inside the input schema are allowed"
            problems.append({"loc": loc, "msg": msg})
            continue
        try:
            resolver.lookup(target)
        except Unresolvable:
            problems.append(
                {"loc": loc, "msg": f"$ref {ref!r} resolves to nothing in the document"}
            )
    return problems


def check(schema: dict[str, Any]) -> list[Problem]:
    """Every problem of an input schema: not valid JSON Schema, or a `$ref` it may not follow."""
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        return [{"loc": ["input_schema", *exc.path], "msg": f"invalid JSON Schema: {exc.message}"}]
    return ref_problems(schema)


def validate(schema: dict[str, Any], payload: Any, root: str = "input_payload") -> list[Problem]:
    """Every place the payload breaks the schema, as {"loc", "msg"} under `root`; a schema
    stored with a reference it may not follow answers its reference problems instead (nothing
    is fetched)."""
    refs = ref_problems(schema)
    if refs:
        return refs
    problems = []
    for error in sorted(
        _validator(schema).iter_errors(payload), key=lambda e: list(e.absolute_path)
    ):
        loc = [root, *error.absolute_path]
        if error.validator == "required" and isinstance(error.validator_value, list):
            missing = error.message.split("'")[1] if "'" in error.message else None
            loc = [*loc, missing] if missing else loc
        problems.append({"loc": loc, "msg": error.message})
    return problems
