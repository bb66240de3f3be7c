"""One registry of named actions: it feeds key bindings, the palette and the help screen."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True, slots=True)
class CockpitAction:
    action: str
    key: str
    label: str
    description: str
    mutating: bool = False
    footer: bool = True
    priority: bool = False


ACTIONS: tuple[CockpitAction, ...] = (
    CockpitAction("focus_next_pane", "tab", "Next", "Move to the next pane", footer=False,
                  priority=True),
    CockpitAction("focus_previous_pane", "shift+tab", "Prev", "Move to the previous pane",
                  footer=False, priority=True),
    CockpitAction("zoom", "enter", "Zoom", "Zoom the focused pane to full screen"),
    CockpitAction("unzoom", "escape", "Back", "Leave the zoomed pane", footer=False),
    CockpitAction("sort_processes('cpu')", "c", "CPU", "Sort processes by CPU"),
    CockpitAction("sort_processes('mem')", "m", "Mem", "Sort processes by memory"),
    CockpitAction("toggle_freeze", "f", "Freeze", "Freeze / unfreeze the display"),
    CockpitAction("help", "question_mark", "Help", "Show the keys and actions"),
    CockpitAction("command_palette", "ctrl+p", "Palette", "Open the command palette",
                  footer=False),
    CockpitAction("quit", "q", "Quit", "Quit the cockpit"),
)


def bindings(readonly: bool) -> list[Binding]:
    return [
        Binding(a.key, a.action, a.label, show=a.footer, priority=a.priority)
        for a in visible_actions(readonly)
    ]


def visible_actions(readonly: bool) -> tuple[CockpitAction, ...]:
    """Mutating actions are hidden in read-only mode."""
    return tuple(a for a in ACTIONS if not (readonly and a.mutating))


def key_label(key: str) -> str:
    return {"question_mark": "?", "escape": "esc"}.get(key, key)
