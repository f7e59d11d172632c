"""The condition editor's state, apart from any widget (plain Python, no textual):
:mod:`draft` edits one condition tree, :mod:`stages` a journey's stages, and
:class:`EditorState` holds the draft journey, the cursor and the undo history."""

from journeytui.editor.draft import CachedNames, Choices
from journeytui.editor.stages import StageError, StagesEdit
from journeytui.editor.state import ENTRY, EditorState, NoTransition

__all__ = ["ENTRY", "CachedNames", "Choices", "EditorState", "NoTransition", "StageError",
           "StagesEdit"]
