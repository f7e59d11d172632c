"""`journeytui` with no command: open the terminal app on the store."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from journeytui.cli import db_path
from journeytui.errors import UserError


def run_app(args: argparse.Namespace) -> int:
    """Check the store (a bad one raises StoreError before Textual starts), then run."""
    from journeytui.store.pool import SESSION_STORE_ENV
    from journeytui.tui import config
    from journeytui.tui.app import make_app
    from journeytui.tui.themes import BUILTIN_DIR, load_themes

    theme = getattr(args, "theme", None)
    if theme:
        known = load_themes(BUILTIN_DIR, config.config_dir() / "themes").themes
        if theme not in known:
            names = ", ".join(sorted(known)) or "none found"
            raise UserError(f"--theme {theme}: no such theme (available: {names})")
    # A private serve-ssh session: read the store read-only, copy it at the first save.
    session_store = os.environ.get(SESSION_STORE_ENV) or None
    app = make_app(
        db_path(args), theme=theme,
        session_store=Path(session_store) if session_store else None,
    )
    code = app.run()
    return int(code or 0)
