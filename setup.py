"""The one packaging step pyproject.toml cannot say: files that live at the top of the
repository but are needed at run time from an installed wheel.

- `alembic/` (the migration scripts) goes into the wheel as `backend/migration_scripts/`,
  where `backend.migrations` finds it. It cannot ship as a top-level `alembic` package:
  that would shadow the alembic library.
- `rxconfig.py`, `assets/` and `reflex.lock/` (what `reflex run` needs in its working
  directory) go in as `jobmonitor/webroot/`, where `cli.webapp.web_root()` finds them.

They stay where they are in the checkout (the `alembic` command and `reflex run` use them
there), so the build copies them rather than mapping packages onto them. An editable install
reads them from the checkout and copies nothing. The sdist carries them through MANIFEST.in.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
BUNDLE = {
    "alembic": "backend/migration_scripts",
    "rxconfig.py": "jobmonitor/webroot/rxconfig.py",
    "assets": "jobmonitor/webroot/assets",
    "reflex.lock": "jobmonitor/webroot/reflex.lock",
}
# Caches, and assets/external, which Reflex generates (gitignored).
SKIP = shutil.ignore_patterns("__pycache__", "*.py[cod]", "external")


class BuildPyWithBundle(build_py):
    """build_py, then copy BUNDLE into the build tree (a stale copy is replaced whole)."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        for source, target in BUNDLE.items():
            src, dst = HERE / source, Path(self.build_lib) / target
            if dst.is_dir():
                shutil.rmtree(dst)
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst, ignore=SKIP)
            else:
                shutil.copy2(src, dst)


setup(cmdclass={"build_py": BuildPyWithBundle})
