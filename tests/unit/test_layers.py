"""The import direction of the server side, checked on the source: app -> routers ->
backend.http -> services and queries -> shared modules; workers never import API code."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _modules(package: str) -> dict[str, set[str]]:
    """Every module of `package` and the absolute modules it imports."""
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        imports: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imports.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imports.add(node.module)
                imports.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[name] = imports
    return found


def _is_router(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return module.startswith("backend.api") or last in ("api", "detail_api")


def _violations(
    modules: dict[str, set[str]], checked: Callable[[str], bool], forbidden: Callable[[str], bool]
) -> list[str]:
    """`module imports target` for each checked module's import that is forbidden."""
    return sorted(
        f"{module} imports {target}"
        for module, targets in modules.items()
        if checked(module)
        for target in targets
        if forbidden(target)
    )


def test_backend_imports_no_client_or_worker_code() -> None:
    backend = _modules("backend")
    assert (
        _violations(
            backend, lambda m: True, lambda t: t.split(".")[0] in ("jobmonitor", "workers", "cli")
        )
        == []
    )


def test_only_the_app_layer_imports_backend_api() -> None:
    backend = _modules("backend")
    assert (
        _violations(
            backend,
            lambda m: not m.startswith("backend.api"),
            lambda t: t.startswith("backend.api"),
        )
        == []
    )


def test_services_import_no_routers_and_no_request_plumbing() -> None:
    backend = _modules("backend")
    assert (
        _violations(
            backend,
            lambda m: not _is_router(m) and not m.startswith("backend.http"),
            lambda t: (_is_router(t) and t.startswith("backend.")) or t.startswith("backend.http"),
        )
        == []
    )


def test_request_plumbing_imports_no_router() -> None:
    backend = _modules("backend")
    assert (
        _violations(
            backend,
            lambda m: m.startswith("backend.http"),
            lambda t: _is_router(t) and t.startswith("backend."),
        )
        == []
    )


def test_workers_import_no_api_code() -> None:
    workers = _modules("workers")
    assert (
        _violations(
            workers,
            lambda m: True,
            lambda t: t.startswith("backend.http") or (_is_router(t) and t.startswith("backend.")),
        )
        == []
    )
