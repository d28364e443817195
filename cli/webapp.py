"""How to start the web app (Reflex frontend + REST API) on one port.

`reflex run --env prod` with equal frontend and backend ports compiles and builds the
frontend, then starts one granian server that serves the built pages, Reflex's `/_event`
websocket, `/ping` and the FastAPI routes under `/api`. `--env preview` is the same on
one port but reloads on code changes (rebuilding the bundle, ~5 s): use it to work on
the UI. Either way the process must run with `cwd=PROJECT_ROOT` (where `rxconfig.py`
lives), after `ensure_frontend_toolchain()`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TOOLS_DIR = PROJECT_ROOT / ".tools"
BUN_BIN_DIR = TOOLS_DIR / "node_modules" / ".bin"
INSTALL_SCRIPT = PROJECT_ROOT / "scripts" / "install_frontend.sh"


def ensure_frontend_toolchain() -> None:
    """Install bun into `.tools/` unless it is already there (a no-op taking ~10 ms)."""
    subprocess.run([str(INSTALL_SCRIPT)], check=True)


def web_env(port: int, env: Mapping[str, str]) -> dict[str, str]:
    """The environment for `reflex run`: `env` plus the toolchain and one-port settings.

    `REFLEX_API_URL` stays on `localhost` on purpose: the browser rewrites a `localhost`
    backend URL to the host it loaded the page from, so the app works whichever name or
    address the user browses with (`127.0.0.1` would be used verbatim).
    """
    out = dict(env)
    out["PATH"] = os.pathsep.join(p for p in (str(BUN_BIN_DIR), env.get("PATH", "")) if p)
    out.setdefault("REFLEX_DIR", str(TOOLS_DIR / "reflex"))
    out.setdefault("BUN_INSTALL_CACHE_DIR", str(TOOLS_DIR / "bun-cache"))
    # Skips Reflex's latency probe of registry.npmmirror.com (unreachable here).
    out.setdefault("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org")
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
) -> tuple[list[str], dict[str, str]]:
    """The argv and environment that serve the whole web app on `host:port`."""
    argv = [sys.executable, "-m", "reflex", "run", "--env", mode]
    if mode == "prod":
        argv.append("--single-port")  # only validates: prod already uses one port
    argv += ["--frontend-port", str(port), "--backend-port", str(port), "--backend-host", host]
    return argv, web_env(port, env)
