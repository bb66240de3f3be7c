"""Drill-down into one alert cluster, the note prompt, and operator feedback.

The screen shows the cluster as it was in the snapshot it was opened from (a snapshot
never changes under the operator's eyes): its templates, hosts and services, then its
newest member alerts; the highlighted member's full text shows below, as plain text.
"""

from __future__ import annotations

import getpass
import json
import uuid
from datetime import UTC, datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from opscockpit.analyzers.alerts_view import AlertMember, ClusterView
from opscockpit.records import Annotation
from opscockpit.ui.glyphs import Glyphs
from opscockpit.ui.panes.alerts_text import (
    SEVERITY_STYLE,
    clean,
    mark_word,
    severity_text,
    status_word,
    template_text,
    when,
)

FEEDBACK_KINDS = ("actionable", "noise", "acknowledged")
MARK_BINDINGS: list[BindingType] = [
    Binding("a", "mark('actionable')", "Actionable"),
    Binding("n", "mark('noise')", "Noise"),
    Binding("k", "mark('acknowledged')", "Ack+note"),
]


def feedback(cluster_id: str, kind: str, note: str = "") -> Annotation:
    """An operator's verdict on a cluster, as the store keeps it."""
    if kind not in FEEDBACK_KINDS:
        raise ValueError(f"unknown feedback {kind!r}")
    try:
        author = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        author = ""
    # Wall-clock time: the latest verdict wins, also when given while replaying history.
    return Annotation(ts=datetime.now(UTC), id=uuid.uuid4().hex, kind=kind,
                      target=cluster_id, text=note.strip(), author=author)


def request_feedback(node: DOMNode, cluster_id: str, kind: str) -> None:
    """Post the verdict (asking for a note first when acknowledging)."""
    from opscockpit.ui.app import AnnotationRequested  # the app imports the panes

    def send(note: str | None) -> None:
        if note is not None:
            node.post_message(AnnotationRequested(feedback(cluster_id, kind, note)))

    if kind == "acknowledged":
        node.app.push_screen(NoteScreen(cluster_id), send)
    else:
        send("")


def readonly(node: DOMNode) -> bool:
    return bool(getattr(node.app, "readonly", False))


class NoteScreen(ModalScreen[str | None]):
    """An optional note: enter stores (empty is fine), escape cancels."""

    DEFAULT_CSS = """
    NoteScreen { align: center middle; }
    NoteScreen > #note-box {
        width: 70; max-width: 100%; height: auto;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, cluster_id: str) -> None:
        super().__init__()
        self.cluster_id = cluster_id

    def compose(self) -> ComposeResult:
        with Vertical(id="note-box"):
            yield Static(Text(f"Acknowledge {self.cluster_id}: note (optional)", style="bold"))
            yield Input(placeholder="enter stores, esc cancels", id="note-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ClusterScreen(Screen[None]):
    DEFAULT_CSS = """
    ClusterScreen { layout: vertical; }
    ClusterScreen #cluster-summary {
        height: auto; max-height: 35%; padding: 0 1; border: round $accent;
    }
    ClusterScreen #cluster-members {
        height: 1fr; min-height: 4; border: round $primary 40%; background: transparent;
        padding: 0;
    }
    ClusterScreen #cluster-members:focus { border: round $accent; }
    ClusterScreen #cluster-detail { height: 1fr; border: round $primary 40%; padding: 0 1; }
    ClusterScreen #member-text { width: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        *MARK_BINDINGS,
    ]

    def __init__(self, cluster: ClusterView, glyphs: Glyphs) -> None:
        super().__init__()
        self.cluster = cluster
        self.glyphs = glyphs

    def compose(self) -> ComposeResult:
        summary = Static(summary_text(self.cluster, self.glyphs), id="cluster-summary")
        summary.border_title = f"Cluster {self.cluster.id}"
        yield summary
        members = OptionList(*[Option(member_row(m, self.glyphs), id=f"m{i}")
                               for i, m in enumerate(self.cluster.members)],
                             id="cluster-members")
        members.border_title = members_title(self.cluster)
        yield members
        with VerticalScroll(id="cluster-detail") as detail:
            detail.border_title = "Alert text"
            yield Static(id="member-text")
        yield Footer()

    def on_mount(self) -> None:
        members = self.query_one("#cluster-members", OptionList)
        members.focus()
        if self.cluster.members:
            members.highlighted = 0
            self._show(0)
        else:
            self.query_one("#member-text", Static).update("No member alerts in the store.")

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show(event.option_index)

    def _show(self, index: int) -> None:
        if 0 <= index < len(self.cluster.members):
            self.query_one("#member-text", Static).update(
                member_text(self.cluster.members[index]))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "mark" and readonly(self))

    def action_mark(self, kind: str) -> None:
        request_feedback(self, self.cluster.id, kind)

    def action_back(self) -> None:
        self.dismiss(None)


def members_title(cluster: ClusterView) -> str:
    shown = len(cluster.members)
    if shown < cluster.size:
        return f"Newest {shown} of {cluster.size} alerts"
    return f"{cluster.size} alerts"


def summary_text(cluster: ClusterView, glyphs: Glyphs) -> Text:
    """Most telling first: a short screen cuts the list of templates, not the verdict."""
    text = severity_text(cluster.severity, glyphs)
    text.append(f" {status_word(cluster)}", style="bold")
    text.append(f"  {cluster.size} alerts  {cluster.rate_per_min:.1f}/min")
    verdict = mark_word(cluster)
    if verdict:
        text.append(f"  marked {verdict}", style="cyan")
    if cluster.note:
        text.append(" “")
        text.append(clean(cluster.note), style="italic")
        text.append("”")
    text.append(f"\nfirst {when(cluster.first_seen)}  last {when(cluster.last_seen)}")
    text.append("\nhosts ", style="bold")
    text.append(clean(", ".join(cluster.hosts) or "-"))
    text.append("  services ", style="bold")
    text.append(clean(", ".join(cluster.services) or "-"))
    for template in cluster.templates:
        text.append("\n▸ ")
        text.append_text(template_text(template))
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text


def member_row(member: AlertMember, glyphs: Glyphs) -> Text:
    row = Text(no_wrap=True, overflow="ellipsis")
    row.append(member.ts.strftime("%H:%M:%S "), style="dim")
    row.append_text(severity_text(member.severity, glyphs))
    row.append(" resolved " if member.status == "resolved" else " firing   ",
               style="green" if member.status == "resolved" else "")
    row.append(f"{clean(member.host)[:14]:<15}")
    row.append(clean(member.title))
    first = (member.message or "").splitlines()[0] if member.message else ""
    if first and first != member.title:
        row.append(" " + clean(first), style="dim")
    return row


def member_text(member: AlertMember) -> Text:
    """The full text first, then where and when, then the labels."""
    text = Text()
    text.append(clean(member.title), style=f"bold {SEVERITY_STYLE.get(member.severity, '')}")
    if member.message and member.message != member.title:
        text.append("\n")
        text.append(clean(member.message))
    text.append(f"\n\n{when(member.ts)}  {member.severity}  {member.status}  "
                f"host {clean(member.host) or '-'}  service {clean(member.service) or '-'}  "
                f"id {clean(member.id)}", style="dim")
    try:
        labels = json.loads(member.labels or "{}")
    except ValueError:
        labels = {"labels": member.labels}
    if isinstance(labels, dict) and labels:
        text.append("\nlabels", style="bold")
        for key, value in sorted(labels.items()):
            text.append(f"\n  {clean(str(key))}=", style="dim")
            text.append(clean(str(value)))
    return text
