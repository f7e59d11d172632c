"""User-facing errors: each says what was wrong, where, and what to do."""


class UserError(Exception):
    """An error the user can cause and fix. The CLI and TUI show its text, never a traceback."""
