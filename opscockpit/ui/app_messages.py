"""Messages panes and screens send to the app."""

from __future__ import annotations

from textual.message import Message

from opscockpit.records import Annotation
from opscockpit.snapshot import Snapshot


class AnnotationRequested(Message):
    """A pane asks to store an operator's note or feedback (a mutating action)."""

    def __init__(self, annotation: Annotation) -> None:
        super().__init__()
        self.annotation = annotation


class SnapshotReady(Message):
    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot
