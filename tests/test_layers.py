"""The store, the domain, the importers and the demo generator never import textual."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import journeytui

PLAIN = ["store", "domain", "importers", "demo", "editor", "errors", "textsafe", "timefmt",
         "export_target", "present"]


def test_plain_layers_do_not_import_textual() -> None:
    root = Path(journeytui.__file__).parent
    modules = []
    for name in PLAIN:
        path = root / name
        if path.is_dir():
            modules += [
                f"journeytui.{name}." + p.stem if p.stem != "__init__" else f"journeytui.{name}"
                for p in path.glob("*.py")
            ]
        elif path.with_suffix(".py").exists():
            modules.append(f"journeytui.{name}")
    assert "journeytui.store.recorder" in modules and "journeytui.domain.stats" in modules
    code = (
        "import sys, importlib\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(bad)\nsys.exit(1 if bad else 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
