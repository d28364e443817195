"""Limits on the JSON documents users send (a job's input): nesting depth and size, checked
before anything is stored, and a read-side cut so that no stored document can make a read
fail (pydantic's serializer stops at 255 levels, Python's JSON parser near 1,000).

`check_input()` runs first thing in job creation (every create route and re-run goes through
it); `loads()` is the JSON loader of the API's connections, so documents stored before the
limit, or step outputs deeper than a response can carry, are shown cut with a marker.
"""

from __future__ import annotations

import json
from typing import Any

from backend.errors import InvalidInput

MAX_INPUT_DEPTH = 64  # levels of objects and arrays in a job's input_payload
MAX_INPUT_BYTES = 512 * 1024  # compact JSON of a job's input_payload
READ_DEPTH = 128  # deeper values are cut when the API reads them (responses add a few levels)
CLIPPED_MARKER = f"[nested deeper than {READ_DEPTH} levels: not shown]"
UNREADABLE_MARKER = "[nested too deep to read: not shown]"


def too_deep(value: Any, limit: int) -> list[Any] | None:
    """The path to the first container nested deeper than `limit` levels, or None.
    Iterative: a document deeper than Python's recursion limit is measured too."""
    stack: list[tuple[Any, int, list[Any]]] = [(value, 1, [])]
    while stack:
        node, level, path = stack.pop()
        children = (
            node.items()
            if isinstance(node, dict)
            else enumerate(node)
            if isinstance(node, list)
            else ()
        )
        for key, child in children:
            if isinstance(child, dict | list):
                if level + 1 > limit:
                    return [*path, key]
                stack.append((child, level + 1, [*path, key]))
    return None


def check_input(payload: Any, field: str = "input_payload") -> None:
    """InvalidInput (422) naming the field, the limit and the reason when the payload is
    nested too deep or too large."""
    path = too_deep(payload, MAX_INPUT_DEPTH)
    if path is not None:
        raise InvalidInput(
            f"{field} is nested deeper than {MAX_INPUT_DEPTH} levels",
            [
                {
                    "loc": [field, *path],
                    "msg": f"nested deeper than {MAX_INPUT_DEPTH} levels (the limit)",
                    "limit": MAX_INPUT_DEPTH,
                }
            ],
        )
    size = len(json.dumps(payload, separators=(",", ":")).encode())
    if size > MAX_INPUT_BYTES:
        raise InvalidInput(
            f"{field} is {size // 1024} KiB; the limit is {MAX_INPUT_BYTES // 1024} KiB",
            [
                {
                    "loc": [field],
                    "msg": f"{size} bytes as JSON, more than the limit of {MAX_INPUT_BYTES // 1024} KiB",
                    "limit": MAX_INPUT_BYTES,
                }
            ],
        )


def body_too_deep(field: str = "body") -> InvalidInput:
    """The refusal of a request body Python's JSON parser cannot even read."""
    return InvalidInput(
        f"the request body is nested too deep to read (the limit is {MAX_INPUT_DEPTH} levels)",
        [
            {
                "loc": [field],
                "msg": f"nested deeper than {MAX_INPUT_DEPTH} levels (the limit)",
                "limit": MAX_INPUT_DEPTH,
            }
        ],
    )


def clip(value: Any, levels: int = READ_DEPTH) -> Any:
    """A copy of `value` whose containers below `levels` are replaced by a marker."""
    if not isinstance(value, dict | list):
        return value
    if levels <= 0:
        return CLIPPED_MARKER
    if isinstance(value, dict):
        return {k: clip(v, levels - 1) for k, v in value.items()}
    return [clip(v, levels - 1) for v in value]


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """The API connections' JSON loader: documents cut at READ_DEPTH levels."""
    raw = data.encode() if isinstance(data, str) else bytes(data)
    try:
        value = json.loads(raw)
    except RecursionError:
        return UNREADABLE_MARKER
    opened = raw.count(b"{") + raw.count(b"[")
    if opened <= READ_DEPTH:  # too few containers to be too deep: no walk (most documents)
        return value
    return clip(value) if too_deep(value, READ_DEPTH) is not None else value
