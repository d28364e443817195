"""A structural diff of two JSON values, addressed by JSON path (`$.options.mode`,
`$.items[3]`), bounded: at most `limit` changes, each value cut to a preview when large."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

PREVIEW_CHARS = 300
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class Diff:
    changes: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False


def diff(a: Any, b: Any, limit: int = 100) -> Diff:
    """Added, removed and changed paths from `a` to `b`, in document order."""
    out = Diff()
    _walk(a, b, "$", out, limit)
    return out


def _walk(a: Any, b: Any, path: str, out: Diff, limit: int) -> None:
    if len(out.changes) >= limit:
        out.truncated = out.truncated or a != b
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            child = f"{path}.{key}" if _PLAIN_KEY.match(key) else f"{path}[{json.dumps(key)}]"
            if key not in b:
                _add(out, limit, child, "removed", a[key], None)
            elif key not in a:
                _add(out, limit, child, "added", None, b[key])
            else:
                _walk(a[key], b[key], child, out, limit)
    elif isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            child = f"{path}[{i}]"
            if i >= len(b):
                _add(out, limit, child, "removed", a[i], None)
            elif i >= len(a):
                _add(out, limit, child, "added", None, b[i])
            else:
                _walk(a[i], b[i], child, out, limit)
    elif a != b or type(a) is not type(b):
        _add(out, limit, path, "changed", a, b)


def _add(out: Diff, limit: int, path: str, change: str, a: Any, b: Any) -> None:
    if len(out.changes) >= limit:
        out.truncated = True
        return
    out.changes.append({"path": path, "change": change, "a": preview(a), "b": preview(b)})


def preview(value: Any) -> Any:
    """The value itself when small, else its JSON text cut to PREVIEW_CHARS (marked)."""
    text = json.dumps(value, default=str)
    if len(text) <= PREVIEW_CHARS:
        return value
    return {"truncated": True, "preview": text[:PREVIEW_CHARS], "chars": len(text)}
