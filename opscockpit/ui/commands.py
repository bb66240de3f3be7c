"""The command palette offers every registered action by name."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from opscockpit.ui.actions import key_label, visible_actions


class CockpitCommands(Provider):
    def _actions(self) -> list[tuple[str, str, str]]:
        readonly = bool(getattr(self.app, "readonly", False))
        replay = getattr(self.app, "replay", None) is not None
        return [
            (a.description, a.action, key_label(a.key))
            for a in visible_actions(readonly, replay)
            if a.action != "command_palette"
        ]

    async def discover(self) -> Hits:
        for description, action, key in self._actions():
            yield DiscoveryHit(description, partial(self.app.run_action, action), help=key)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for description, action, key in self._actions():
            score = matcher.match(description)
            if score > 0:
                yield Hit(score, matcher.highlight(description),
                          partial(self.app.run_action, action), help=key)
