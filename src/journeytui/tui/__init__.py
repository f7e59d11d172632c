"""The terminal app (Textual).  Build it with :func:`journeytui.tui.app.make_app`."""
