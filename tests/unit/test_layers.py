"""The dependency direction, read from the source (every import statement, including the ones
inside functions): the engine never imports a front end or the workers, the two front ends
never import each other, and the API client knows nothing but HTTP. Inside the server:
app -> routers -> backend.http -> services and queries -> shared modules; workers never
import API code."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# package -> (modules it must not import, the exceptions to that)
RULES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "backend": (("jobmonitor", "workers", "cli", "apiclient"), ()),
    "workers": (("jobmonitor", "cli", "apiclient", "backend.api", "backend.http"), ()),
    "cli": (("jobmonitor",), ()),
    "jobmonitor": (("cli", "workers", "backend"), ("backend.jobs.statuses",)),
    "apiclient": (("jobmonitor", "cli", "workers", "backend"), ()),
}
# The Reflex app module serves the REST API in its own process (`api_transformer`): the one
# place where the UI package touches the engine.
APP_MODULE, APP_IMPORT = "jobmonitor/jobmonitor.py", "backend.api.app"


def imports(file: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every absolute import in `file`; `from a import b` yields "a.b".
    (A relative import cannot leave its own package.)"""
    for node in ast.walk(ast.parse(file.read_text(), str(file))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def violations(root: Path, package: str) -> list[str]:
    forbidden, allowed = RULES[package]
    found = []
    for file in sorted((root / package).rglob("*.py")):
        where = file.relative_to(root).as_posix()
        for line, name in sorted(imports(file)):
            if not within(name, forbidden) or within(name, allowed):
                continue
            if where == APP_MODULE and within(name, (APP_IMPORT,)):
                continue
            found.append(f"{where}:{line} imports {name}")
    return found


@pytest.mark.parametrize("package", sorted(RULES))
def test_dependency_direction(package: str) -> None:
    assert violations(ROOT, package) == []


def test_the_check_finds_imports_inside_functions(tmp_path: Path) -> None:
    (tmp_path / "cli" / "commands").mkdir(parents=True)
    (tmp_path / "cli" / "commands" / "x.py").write_text(
        "import json\nfrom apiclient import errors\n\n"
        "def f():\n    from jobmonitor.format import iso\n\n"
        "import jobmonitor.state as s\n"
    )
    (tmp_path / "jobmonitor").mkdir()
    (tmp_path / "jobmonitor" / "y.py").write_text(
        "from backend.jobs.statuses import JobStatus\nfrom backend.jobs import states\n"
    )
    assert violations(tmp_path, "cli") == [
        "cli/commands/x.py:5 imports jobmonitor.format.iso",
        "cli/commands/x.py:7 imports jobmonitor.state",
    ]
    assert violations(tmp_path, "jobmonitor") == ["jobmonitor/y.py:2 imports backend.jobs.states"]


# --- inside the server ----------------------------------------------------------------------


def _is_router(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return module.startswith("backend.api") or last == "api" or last.endswith("_api")


def _backend_imports() -> Iterator[tuple[str, str]]:
    """(importing module, imported name) for every import in backend/."""
    for file in sorted((ROOT / "backend").rglob("*.py")):
        module = ".".join(file.relative_to(ROOT).with_suffix("").parts)
        for _, name in imports(file):
            yield module, name


def test_only_the_app_layer_imports_backend_api() -> None:
    found = [
        f"{m} imports {n}"
        for m, n in _backend_imports()
        if not m.startswith("backend.api") and n.startswith("backend.api")
    ]
    assert found == []


def test_services_import_no_routers_and_no_request_plumbing() -> None:
    found = [
        f"{m} imports {n}"
        for m, n in _backend_imports()
        if not _is_router(m)
        and not m.startswith("backend.http")
        and ((_is_router(n) and n.startswith("backend.")) or n.startswith("backend.http"))
    ]
    assert found == []


def test_request_plumbing_imports_no_router() -> None:
    found = [
        f"{m} imports {n}"
        for m, n in _backend_imports()
        if m.startswith("backend.http") and _is_router(n) and n.startswith("backend.")
    ]
    assert found == []
