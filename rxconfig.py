"""Reflex configuration for the Jobmonitor web app.

No `db_url`: the backend owns its SQLModel engine; Reflex's `rx.Model` layer is unused.
Every field can be overridden from the environment as `REFLEX_<FIELD>` (Reflex reads
them itself), so ports come from `REFLEX_FRONTEND_PORT` / `REFLEX_BACKEND_PORT` or from
`reflex run --frontend-port/--backend-port`; `cli.webapp.web_command` builds the
one-port production command line.
"""

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

config = rx.Config(
    app_name="jobmonitor",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    # A private monitor has no public pages to index; listing the plugin here also
    # silences Reflex's "SitemapPlugin is enabled by default" warning.
    disable_plugins=[SitemapPlugin],
    # Explicit since 0.9 (implicit enablement is deprecated). The app theme lives
    # here, not in `rx.App(theme=...)` (also deprecated).
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo"))],
)
