"""Pick a theme the terminal can show: ANSI themes on 16 colours or NO_COLOR."""

from __future__ import annotations

import os

from rich.console import Console

from opscockpit.ui.glyphs import PLAIN, UNICODE, Glyphs


def limited_colour(env: dict[str, str] | None = None) -> bool:
    env = dict(os.environ if env is None else env)
    if env.get("NO_COLOR"):
        return True
    if env.get("TERM", "") in {"dumb", "linux", "vt100", "vt220", "xterm-16color"}:
        return True
    if env.get("COLORTERM") in {"truecolor", "24bit"}:
        return False
    system = Console(force_terminal=True, _environ=env).color_system
    return system in (None, "standard")


def choose_theme(configured: str, env: dict[str, str] | None = None) -> tuple[str, Glyphs]:
    """The Textual theme and glyph set for this terminal."""
    limited = limited_colour(env)
    if configured != "auto":
        plain = configured.startswith("ansi") or limited
        return configured, PLAIN if plain else UNICODE
    if limited:
        return "ansi-dark", PLAIN
    return "textual-dark", UNICODE
