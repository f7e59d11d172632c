"""Importers of provider data (no textual)."""
