"""Server-side commands without their servers: one line on stderr and exit 3 (2 for a setting
that cannot be read), never a traceback.

`servers(database=..., redis=...)` checks the servers a command needs before it starts, and
turns a server lost while the command runs into the same one line.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg
import psycopg_pool
import typer
from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rich.console import Console
from rich.text import Text

from backend.settings import SettingMissing, get_settings
from cli.services.postgres import check_postgres
from cli.services.redis import check_redis
from cli.services.system import ServiceError

UNREACHABLE, USAGE = 3, 2
ADVICE = "start the servers (`jobmonitor up`) or set JOBMONITOR_DATABASE_URL / JOBMONITOR_REDIS_URL"

err = Console(stderr=True, soft_wrap=True)


@contextlib.contextmanager
def servers(*, database: bool = True, redis: bool = False) -> Iterator[None]:
    """Check that the needed servers answer, then run the command's body."""
    try:
        settings = get_settings()
        if database:
            check_postgres(settings.require_database_url())
        if redis:
            check_redis(settings.require_redis_url())
        yield
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = "JOBMONITOR_" + str(problem["loc"][0]).upper() if problem["loc"] else "settings"
        _fail(f"{where}: {problem['msg'].removeprefix('Value error, ')}", USAGE)
    except (SettingMissing, ServiceError) as exc:
        _fail(f"{_first_line(exc)}; {ADVICE}", UNREACHABLE)
    except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as exc:
        _fail(f"lost PostgreSQL: {_first_line(exc)}", UNREACHABLE)
    except (RedisConnectionError, RedisTimeoutError) as exc:
        _fail(f"lost Redis: {_first_line(exc)}", UNREACHABLE)


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines[:1]) or type(exc).__name__


def _fail(message: str, code: int) -> None:
    err.print(Text(f"error: {message}", style="red"))
    raise typer.Exit(code)
