"""What PostgreSQL can store: a step's output checked before it is written, and text (log
lines, error messages, tracebacks) made safe to write.

PostgreSQL's jsonb refuses NaN and Infinity, the NUL character and lone surrogates; a write
it refuses would fail the whole outcome transaction. So the output is checked here, in the
worker, and a value that cannot be stored fails the attempt with the exact place
(`OutputNotStorable: NaN at $.stats.mean`), as the step's own failure. The setting
`JOBMONITOR_NAN_AS_NULL` stores NaN and Infinity as null instead (off by default: a NaN is
usually a bug worth seeing).
"""

from __future__ import annotations

import json
import math
import numbers
import re
from typing import Any

MAX_DEPTH = 500  # nesting levels (PostgreSQL's own parser gives up deeper, with a stack error)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class OutputNotStorable(Exception):
    """The step's output cannot be stored; the message says what and where."""


def storable_output(value: Any, nan_as_null: bool, max_bytes: int) -> Any:
    """A JSON copy of `value` that PostgreSQL accepts, or OutputNotStorable."""
    result = _walk(value, "$", 0, nan_as_null)
    size = len(json.dumps(result, ensure_ascii=False).encode())
    if size > max_bytes:
        raise OutputNotStorable(
            f"the output is {size} bytes of JSON, over the limit of {max_bytes} bytes "
            "(JOBMONITOR_MAX_OUTPUT_BYTES)"
        )
    return result


def _walk(value: Any, path: str, depth: int, nan_as_null: bool) -> Any:
    if depth > MAX_DEPTH:
        raise OutputNotStorable(f"nested deeper than {MAX_DEPTH} levels at {path}")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _checked_text(value, path)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isfinite(number):
            return number
        if nan_as_null:
            return None
        name = "NaN" if math.isnan(number) else ("Infinity" if number > 0 else "-Infinity")
        raise OutputNotStorable(f"{name} at {path}")
    if isinstance(value, dict):
        return {
            _key(k, path): _walk(v, _child(path, _key(k, path)), depth + 1, nan_as_null)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_walk(v, f"{path}[{i}]", depth + 1, nan_as_null) for i, v in enumerate(value)]
    raise OutputNotStorable(f"a value of type {type(value).__name__} (not JSON) at {path}")


def _key(key: Any, path: str) -> str:
    if isinstance(key, str):
        return _checked_text(key, f"a key in {path}")
    if key is None or isinstance(key, (bool, int, float)):  # as json.dumps turns them
        return json.dumps(key)
    raise OutputNotStorable(f"a key of type {type(key).__name__} (not text) in {path}")


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if _IDENTIFIER.match(key) else f"{path}[{json.dumps(key)}]"


def _checked_text(text: str, where: str) -> str:
    if "\x00" in text:
        raise OutputNotStorable(f"a NUL character at {where}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise OutputNotStorable(f"text that is not valid Unicode at {where}") from None
    return text


def storable_text(text: str) -> str:
    """`text` with what PostgreSQL refuses in a text column (NUL, lone surrogates) replaced
    by U+FFFD and ?, for log lines, error messages and tracebacks."""
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text
