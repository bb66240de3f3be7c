"""Operator notes become annotations the app stores through the engine."""

from __future__ import annotations

import getpass
import uuid
from datetime import datetime

from opscockpit.records import Annotation
from opscockpit.ui.app_messages import AnnotationRequested


def note_at(ts: datetime, text: str, target: str = "") -> AnnotationRequested:
    try:
        author = getpass.getuser()
    except (KeyError, OSError):
        author = ""
    return AnnotationRequested(
        Annotation(ts=ts, id=f"note-{uuid.uuid4().hex[:12]}", kind="note", target=target,
                   text=text, author=author)
    )
