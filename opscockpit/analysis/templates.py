"""Online log-template mining: a Drain-class fixed-depth prefix tree, written for opscockpit.

A message is masked (typed variables become ``<IP>``, ``<NUM>``…, see
:mod:`template_tokens`), split on whitespace and routed down a tree whose first level is
the token count and whose next levels are the leading tokens. The leaf holds a short list
of templates; the message joins the most similar one when the share of agreeing positions
reaches ``similarity``, and the positions that disagree become ``<*>``. Otherwise it starts
a new template. A message therefore costs O(its tokens x the templates in its leaf),
independent of how much history the miner has seen.

Template ids are a short hash of the first text a template had and are kept when it
generalises, so an id seen by an operator yesterday still names the same template today.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from opscockpit.analysis.template_tokens import (
    MASK_TYPES,
    PLACEHOLDER_RE,
    WILDCARD,
    Masker,
    plain,
)

STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class MinerParams:
    """One configuration for every log source; nothing here is tuned per dataset."""

    depth: int = 4  # root + length level + (depth - 2) leading-token levels
    similarity: float = 0.6
    max_children: int = 100
    wildcard_weight: float = 0.5  # how much a ``<*>`` position counts as agreeing
    typed_weight: float = 0.0  # how much an agreeing typed slot (``<NUM>``…) counts


@dataclass(slots=True)
class _Template:
    id: str
    tokens: list[str]
    count: int
    path: tuple[str, ...]
    wildcards: int = 0


@dataclass(slots=True)
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    templates: list[int] = field(default_factory=list)  # indexes into TemplateMiner._templates


@dataclass(frozen=True, slots=True)
class MatchResult:
    template_id: str
    template: str
    is_new: bool
    changed: bool  # an existing template generalised to take this message


_TYPED = frozenset(f"<{name}>" for name in MASK_TYPES)


def _is_slot(token: str) -> bool:
    """A typed slot, possibly wrapped in punctuation (``<UUID>]``, ``(<NUM>)``)."""
    if token in _TYPED:
        return True
    if "<" not in token:
        return False
    rest = PLACEHOLDER_RE.sub("", token)
    return rest != token and not any(c.isalnum() for c in rest)


def _has_digit(token: str) -> bool:
    return any(c.isdigit() for c in token)


def template_id_for(text: str) -> str:
    return "T" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


class TemplateMiner:
    """Incremental template miner; ``add`` one message at a time, ``to_state`` to persist."""

    def __init__(self, params: MinerParams | None = None) -> None:
        self.params = params or MinerParams()
        self._root = _Node()
        self._templates: list[_Template] = []
        self._by_id: dict[str, int] = {}
        self._masker = Masker()

    # -- mining -------------------------------------------------------------------------
    def _route(self, tokens: Sequence[str], create: bool) -> tuple[_Node | None, tuple[str, ...]]:
        node = self._root
        key = str(len(tokens))
        path = [key]
        nxt = node.children.get(key)
        if nxt is None:
            if not create:
                return None, tuple(path)
            nxt = node.children[key] = _Node()
        node = nxt
        for token in tokens[: max(self.params.depth - 2, 0)]:
            # Tokens with digits are usually values the masks did not recognise; routing
            # them to one wildcard branch keeps them from fragmenting the tree.
            key = WILDCARD if token in _TYPED or _has_digit(token) else token
            child = node.children.get(key)
            if child is None and key != WILDCARD and len(node.children) >= self.params.max_children:
                key = WILDCARD
                child = node.children.get(key)
            if child is None:
                if not create:
                    return None, tuple(path)
                child = node.children[key] = _Node()
            path.append(key)
            node = child
        return node, tuple(path)

    def _best(self, leaf: _Node, tokens: Sequence[str]) -> tuple[int | None, float]:
        best: int | None = None
        best_key = (-1.0, -1)
        w = self.params.wildcard_weight
        tw = self.params.typed_weight
        slots = [_is_slot(b) for b in tokens]
        for idx in leaf.templates:
            t = self._templates[idx]
            same = 0.0
            weight = 0.0
            for a, b, b_slot in zip(t.tokens, tokens, slots, strict=True):
                if b_slot and (a in (b, WILDCARD) or _is_slot(a)):
                    # Two variables agree on nothing but being variables: weigh them by
                    # ``typed_weight`` (0 = judge only by the constant words).
                    same += tw
                    weight += tw
                elif a == WILDCARD:
                    same += w
                    weight += 1.0
                else:
                    weight += 1.0
                    if a == b:
                        same += 1.0
            sim = same / weight if weight else 1.0
            key = (sim, t.wildcards)
            if key > best_key:
                best_key, best = key, idx
        return best, best_key[0]

    def add(self, message: str) -> MatchResult:
        tokens = self._masker.tokens(message)
        leaf, path = self._route(tokens, create=True)
        assert leaf is not None
        idx, sim = self._best(leaf, tokens)
        if idx is not None and sim >= self.params.similarity:
            t = self._templates[idx]
            t.count += 1
            changed = False
            for i, (a, b) in enumerate(zip(t.tokens, tokens, strict=True)):
                if a != b and a != WILDCARD:
                    t.tokens[i] = WILDCARD
                    t.wildcards += 1
                    changed = True
            return MatchResult(t.id, " ".join(t.tokens), False, changed)
        text = " ".join(tokens)
        tid = self._new_id(text)
        self._by_id[tid] = len(self._templates)
        leaf.templates.append(len(self._templates))
        self._templates.append(_Template(tid, list(tokens), 1, path, tokens.count(WILDCARD)))
        return MatchResult(tid, text, True, False)

    def _new_id(self, text: str) -> str:
        base = template_id_for(text)
        tid, n = base, 1
        # The same first text can recur once its first template has generalised away.
        while tid in self._by_id:
            n += 1
            tid = f"{base}~{n}"
        return tid

    def match(self, message: str) -> str | None:
        """The id of the template ``message`` would join, without learning from it."""
        tokens = self._masker.tokens(message)
        leaf, _ = self._route(tokens, create=False)
        if leaf is None:
            return None
        idx, sim = self._best(leaf, tokens)
        if idx is None or sim < self.params.similarity:
            return None
        t = self._templates[idx]
        if all(a in (WILDCARD, b) for a, b in zip(t.tokens, tokens, strict=True)):
            return t.id
        return None

    # -- reading ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._templates)

    def template(self, template_id: str) -> str:
        return " ".join(self._templates[self._by_id[template_id]].tokens)

    def templates(self) -> pd.DataFrame:
        """One row per template: ``EventId, EventTemplate, PlainTemplate, Occurrences``."""
        rows = [
            (t.id, " ".join(t.tokens), plain(" ".join(t.tokens)), t.count)
            for t in self._templates
        ]
        return pd.DataFrame(rows, columns=["EventId", "EventTemplate", "PlainTemplate",
                                           "Occurrences"])

    # -- persistence --------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot; :meth:`from_state` resumes with the same ids."""
        return {
            "version": STATE_VERSION,
            "params": asdict(self.params),
            "templates": [
                {"id": t.id, "tokens": list(t.tokens), "count": t.count, "path": list(t.path)}
                for t in self._templates
            ],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TemplateMiner:
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unknown template-miner state version {state.get('version')!r}")
        miner = cls(MinerParams(**state["params"]))
        for item in state["templates"]:
            node = miner._root
            for key in item["path"]:
                node = node.children.setdefault(key, _Node())
            idx = len(miner._templates)
            tokens = list(item["tokens"])
            miner._templates.append(
                _Template(item["id"], tokens, int(item["count"]), tuple(item["path"]),
                          tokens.count(WILDCARD))
            )
            miner._by_id[item["id"]] = idx
            node.templates.append(idx)
        return miner


def mine(
    messages: Iterable[str], params: MinerParams | None = None, *, plain_templates: bool = False
) -> pd.DataFrame:
    """``EventId, EventTemplate`` for each message, templates as they stand after all of them."""
    miner = TemplateMiner(params)
    ids = [miner.add(m).template_id for m in messages]
    table = miner.templates().set_index("EventId")
    column = "PlainTemplate" if plain_templates else "EventTemplate"
    texts = table[column].to_dict()
    return pd.DataFrame({"EventId": ids, "EventTemplate": [texts[i] for i in ids]})


def structured(contents: Sequence[str], params: MinerParams | None = None) -> pd.DataFrame:
    """LogHub's structured-CSV convention: ``LineId, Content, EventId, EventTemplate``.

    ``contents`` are message bodies with the log header already removed (see
    ``opscockpit.sources.log_lines.split_headers``); ``LineId`` counts from 1 and the
    templates use the plain ``<*>`` spelling LogHub compares against.
    """
    frame = mine(contents, params, plain_templates=True)
    frame.insert(0, "Content", list(contents))
    frame.insert(0, "LineId", range(1, len(contents) + 1))
    return frame


def placeholders(template: str) -> list[str]:
    """The slot types of ``template`` in order, e.g. ``['<IP>', '<*>']``."""
    return PLACEHOLDER_RE.findall(template)
