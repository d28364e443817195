"""Step conditions: a small, safe expression language over the job input and upstream outputs.

    input.mode == "fast"
    steps.extract.rows > 100 and not input.dry_run
    input.region in ["eu", "us"] or len(steps.scan.files) == 0

Python syntax, parsed with `ast` and evaluated by walking a whitelist of nodes: no `eval`, no
attribute access on Python objects (a dotted name reads a key of a JSON object), no calls but
a few pure functions. A missing key reads as null, so `input.mode == "fast"` is simply false
when the input has no `mode`.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

NAMES = ("input", "steps")
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "abs": abs,
    "min": min,
    "max": max,
    "lower": lambda s: str(s).lower(),
}
_CONSTANTS = {"true": True, "false": False, "null": None}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
}
MAX_LENGTH = 500


class ExpressionError(ValueError):
    """The expression is not valid in this language (raised at definition time)."""


class EvaluationError(ValueError):
    """The expression is valid but failed on this data (e.g. comparing a string to a number)."""


def parse(source: str) -> ast.Expression:
    """Parse and check an expression; raise ExpressionError naming what is not allowed."""
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError("condition must be a non-empty string")
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"condition is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error at column {exc.offset}: {exc.msg}") from None
    for node in ast.walk(tree):
        _check_node(node)
    return tree


def _check_node(node: ast.AST) -> None:
    allowed = (
        ast.Expression,
        ast.BoolOp,
        ast.And,
        ast.Or,
        ast.UnaryOp,
        ast.Not,
        ast.USub,
        ast.UAdd,
        ast.Compare,
        ast.BinOp,
        ast.Constant,
        ast.Name,
        ast.Load,
        ast.Attribute,
        ast.Subscript,
        ast.List,
        ast.Tuple,
        ast.Call,
        *_COMPARE,
        *_BINARY,
    )
    if not isinstance(node, allowed):
        raise ExpressionError(f"{type(node).__name__} is not allowed in a condition")
    if isinstance(node, ast.Name) and node.id not in (*NAMES, *FUNCTIONS, *_CONSTANTS):
        raise ExpressionError(
            f"unknown name {node.id!r}: use input.<field> or steps.<step_key>.<field>"
        )
    if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
        raise ExpressionError(f"field names may not start with '_': {node.attr!r}")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise ExpressionError(f"only these functions may be called: {', '.join(FUNCTIONS)}")
        if node.keywords:
            raise ExpressionError("keyword arguments are not allowed in a condition")


def referenced_steps(tree: ast.Expression) -> set[str]:
    """The step keys an expression reads as `steps.<key>` or `steps["key"]`."""
    keys: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute | ast.Subscript) and _is_steps(node.value):
            key = node.attr if isinstance(node, ast.Attribute) else _constant(node.slice)
            if isinstance(key, str):
                keys.add(key)
    return keys


def _is_steps(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == "steps"


def _constant(node: ast.AST) -> Any:
    return node.value if isinstance(node, ast.Constant) else None


def evaluate(source: str | ast.Expression, input: Any, steps: dict[str, Any]) -> bool:
    """Evaluate a condition to a bool; EvaluationError when the data does not fit."""
    tree = parse(source) if isinstance(source, str) else source
    try:
        return bool(_eval(tree.body, {"input": input, "steps": steps}))
    except EvaluationError:
        raise
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        raise EvaluationError(str(exc)) from None


def _eval(node: ast.AST, names: dict[str, Any]) -> Any:
    match node:
        case ast.Constant(value=value):
            return value
        case ast.Name(id=name):
            if name in names:
                return names[name]
            return _CONSTANTS.get(name)
        case ast.Attribute(value=inner, attr=attr):
            return _get(_eval(inner, names), attr)
        case ast.Subscript(value=inner, slice=index):
            return _get(_eval(inner, names), _eval(index, names))
        case ast.List(elts=items) | ast.Tuple(elts=items):
            return [_eval(item, names) for item in items]
        case ast.BoolOp(op=ast.And(), values=values):
            return all(_eval(v, names) for v in values)
        case ast.BoolOp(op=ast.Or(), values=values):
            return any(_eval(v, names) for v in values)
        case ast.UnaryOp(op=op, operand=operand):
            value = _eval(operand, names)
            return (
                not value
                if isinstance(op, ast.Not)
                else (-value if isinstance(op, ast.USub) else +value)
            )
        case ast.BinOp(left=left, op=op, right=right):
            return _BINARY[type(op)](_eval(left, names), _eval(right, names))
        case ast.Compare(left=left, ops=ops, comparators=comparators):
            return _compare(_eval(left, names), ops, comparators, names)
        case ast.Call(func=ast.Name(id=fname), args=args):
            return FUNCTIONS[fname](*(_eval(a, names) for a in args))
    raise EvaluationError(f"cannot evaluate {type(node).__name__}")


def _compare(
    left: Any, ops: list[ast.cmpop], comparators: list[ast.expr], names: dict[str, Any]
) -> bool:
    for op, right_node in zip(ops, comparators, strict=True):
        right = _eval(right_node, names)
        if not _COMPARE[type(op)](left, right):
            return False
        left = right
    return True


def _get(container: Any, key: Any) -> Any:
    if isinstance(container, dict):
        return container.get(key)
    if isinstance(container, list) and isinstance(key, int):
        return container[key] if -len(container) <= key < len(container) else None
    return None
