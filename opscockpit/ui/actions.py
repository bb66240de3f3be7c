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
    replay: bool = False


ACTIONS: tuple[CockpitAction, ...] = (
    CockpitAction("focus_next_pane", "tab", "Next", "Move to the next pane", footer=False,
                  priority=True),
    CockpitAction("focus_previous_pane", "shift+tab", "Prev", "Move to the previous pane",
                  footer=False, priority=True),
    CockpitAction("zoom", "enter", "Zoom", "Zoom the focused pane to full screen"),
    CockpitAction("unzoom", "escape", "Back", "Leave the zoomed pane", footer=False),
    CockpitAction("sort_processes('cpu')", "c", "CPU", "Sort processes by CPU"),
    CockpitAction("sort_processes('mem')", "m", "Mem", "Sort processes by memory"),
    CockpitAction("next_host", "h", "Host", "Telemetry: show the next host", footer=False),
    CockpitAction("timeline", "t", "Timeline", "Every domain's events on one timeline"),
    CockpitAction("export", "x", "Export", "Write a report (md, html, json) of what is shown",
                  footer=False),
    CockpitAction("toggle_freeze", "f", "Freeze", "Freeze / unfreeze the display"),
    CockpitAction("toggle_recording", "R", "Record", "Start / stop recording the sources",
                  footer=False),
    CockpitAction("help", "question_mark", "Help", "Show the keys and actions"),
    CockpitAction("command_palette", "ctrl+p", "Palette", "Open the command palette",
                  footer=False),
    CockpitAction("quit", "q", "Quit", "Quit the cockpit"),
    # Replay only (hidden when live).
    CockpitAction("replay_pause", "space", "Pause", "Replay: pause / resume", replay=True),
    CockpitAction("replay_faster", "plus", "Faster", "Replay: faster", replay=True),
    CockpitAction("replay_slower", "minus", "Slower", "Replay: slower", replay=True),
    CockpitAction("replay_step(10)", "full_stop", "Step", "Replay: step 10 s forward",
                  replay=True, footer=False),
    CockpitAction("replay_step(-10)", "comma", "Back", "Replay: step 10 s back", replay=True,
                  footer=False),
    CockpitAction("replay_next_event", "n", "Next event", "Replay: jump to the next event",
                  replay=True),
    CockpitAction("replay_goto", "g", "Go to", "Replay: jump to a time", replay=True,
                  footer=False),
)


def bindings() -> list[Binding]:
    """Every action's key; the app hides those that do not apply (check_action)."""
    return [Binding(a.key, a.action, a.label, show=a.footer, priority=a.priority)
            for a in ACTIONS]


def visible_actions(readonly: bool, replay: bool = False) -> tuple[CockpitAction, ...]:
    """Mutating actions are hidden in read-only mode, replay actions when live."""
    return tuple(a for a in ACTIONS
                 if not (readonly and a.mutating) and (replay or not a.replay))


def key_label(key: str) -> str:
    return {"question_mark": "?", "escape": "esc", "plus": "+", "minus": "-", "slash": "/",
            "full_stop": ".", "comma": ","}.get(key, key)
