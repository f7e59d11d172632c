"""The Textual app (issues 4 and 5).  Build it with :func:`journeytui.tui.app.make_app`."""
