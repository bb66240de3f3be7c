"""Online log-template mining: a Drain-class fixed-depth prefix tree, written for opscockpit.

A message is masked (typed variables become ``<IP>``, ``<NUM>``…, see
:mod:`template_tokens`), split on whitespace and routed down a tree whose first level is
the token count and whose next levels are the leading tokens. The leaf holds a short list
of templates; the message joins the most similar one when the share of agreeing positions
reaches ``similarity``, and the positions that disagree become ``<*>``. Otherwise it starts
a new template. A message therefore costs O(its tokens x the templates in its leaf),
independent of how much history the miner has seen.

Two words that differ where a template has a constant word (``VM Paused`` / ``VM
Resumed``, ``to spawn`` / ``to destroy``) usually name different events, while values that
differ (numbers, ids, hosts…) are the variables of one event. So a word-for-word
disagreement blocks a merge, unless the word follows a noun that names a person
(``user alice``), or the position has by now shown ``word_variety`` different words: an
enumeration that long is a variable (user names, process names), and its templates merge
into the oldest of them, whose id the others become aliases of.

A message whose masked tokens were seen before, in a leaf that has not changed since,
goes straight to the same template (a memo keyed by the token tuple): the decision only
depends on the leaf's templates, so this is exact, and most lines of a log take that path.
The same memo keyed by the line's digit shape (see :class:`template_tokens.Masker`) spares
those lines even their tokens.

Template ids are a short hash of the first text a template had and are kept when it
generalises, so an id seen by an operator yesterday still names the same template today.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import InitVar, asdict, dataclass, field
from typing import Any

import pandas as pd

from opscockpit.analysis.template_tokens import (
    DIGIT_SHAPE,
    PLACEHOLDER_RE,
    TYPED_SLOTS,
    WILDCARD,
    Masker,
    Spans,
    follows_name,
    has_digit,
    is_dotted_name,
    plain,
    token_role,
    words_disagree,
)

# 2 added aliases (version 1 states load as having none); 3 routes dotted names to the
# wildcard branch (older paths are re-keyed on load, see ``_route_key``).
STATE_VERSION = 3
_READABLE_VERSIONS = (1, 2, 3)
_MEMO_SIZE = 1 << 16


@dataclass(frozen=True, slots=True)
class MinerParams:
    """One configuration for every log source; nothing here is tuned per dataset."""

    depth: int = 4  # root + length level + (depth - 2) leading-token levels
    similarity: float = 0.6
    max_children: int = 100
    wildcard_weight: float = 0.5  # how much a ``<*>`` position counts as agreeing
    typed_weight: float = 0.0  # how much an agreeing typed slot (``<NUM>``…) counts
    word_variety: int = 5  # different words seen at one position that make it a variable


@dataclass(frozen=True, slots=True)
class MatchResult:
    template_id: str
    template: str
    is_new: bool
    changed: bool  # an existing template generalised to take this message


@dataclass(slots=True, eq=False)
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    templates: list[_Template] = field(default_factory=list)  # live ones, oldest first
    version: int = 0  # bumped on every change to ``templates``: invalidates the memo


@dataclass(slots=True, eq=False)
class _Template:
    id: str
    tokens: list[str]
    count: int
    path: tuple[str, ...]
    leaf: _Node
    text: InitVar[str | None] = None  # " ".join(tokens), when the caller has it already
    wildcards: int = 0
    result: MatchResult = field(init=False)  # what a repeat of a known message returns

    def __post_init__(self, text: str | None) -> None:
        self.refresh(text)

    def refresh(self, text: str | None = None) -> None:
        self.wildcards = self.tokens.count(WILDCARD)
        self.result = MatchResult(self.id, text or " ".join(self.tokens), False, False)


def _route_key(token: str) -> str:
    """The branch a leading token takes: itself, or the wildcard branch for a likely value.

    Tokens with digits are usually values the masks did not recognise. A dotted name
    (``com.example.sync:``) is usually one of many things of a kind (bundles, classes,
    config keys) logging the same event. Routed apart, their lines never meet in a leaf,
    so neither the word comparison nor ``word_variety`` could ever join them; in one
    branch those still decide, and two names stay two events until there are
    ``word_variety`` of them.
    """
    if token.isalpha():
        return token
    if token in TYPED_SLOTS or has_digit(token) or is_dotted_name(token):
        return WILDCARD
    return token


def template_id_for(text: str) -> str:
    return "T" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


class TemplateMiner:
    """Incremental template miner; ``add`` one message at a time, ``to_state`` to persist."""

    def __init__(self, params: MinerParams | None = None) -> None:
        self.params = params or MinerParams()
        self._lead = max(self.params.depth - 2, 0)  # leading tokens that route a message
        self._root = _Node()
        self._order: list[_Template] = []  # every template ever made, dead ones included
        self._by_id: dict[str, _Template] = {}  # live templates
        self._aliases: dict[str, str] = {}  # merged-away id -> live id
        self._masker = Masker()
        self._memo: dict[tuple[str, ...], tuple[_Template, int]] = {}
        # The same memo keyed by line shape (and the text of the tokens the shape cannot stand
        # for, at their byte spans): most lines then cost no tokens, no tuple hash, one lookup.
        self._shape_memo: dict[bytes | tuple[bytes, ...], tuple[_Template, int]] = {}
        self._spans: dict[bytes, Spans] = {}
        self._words: dict[str, tuple[bool, str]] = {}  # token -> (is slot, its word)
        self._routes: dict[tuple[Any, ...], tuple[_Node, tuple[str, ...]]] = {}

    # -- mining -------------------------------------------------------------------------
    def add(self, message: str) -> MatchResult:
        raw = message.encode("utf-8", "surrogatepass")
        key: bytes | tuple[bytes, ...] = raw.translate(DIGIT_SHAPE)  # line_shape, inline: hot path
        shape = key
        hit = self._shape_memo.get(key)
        if hit is None:
            spans = self._spans.get(shape)
            if spans is not None:
                key = (shape, *map(raw.__getitem__, spans))  # C all the way: no comprehension
                hit = self._shape_memo.get(key)
        if hit is not None:
            t, version = hit
            if t.leaf.version == version:
                t.count += 1
                return t.result
        tokens, spans = self._masker.shaped(message, shape)
        hit = self._memo.get(tokens)
        if hit is not None and hit[0].leaf.version == hit[1]:
            t = hit[0]
            t.count += 1
            result = t.result
        else:
            result = self._add(tokens)
            t = self._by_id[result.template_id]
        if len(self._shape_memo) >= _MEMO_SIZE:
            self._shape_memo.clear()
            self._spans.clear()
        if spans and key is shape:
            self._spans[shape] = spans
            key = (shape, *map(raw.__getitem__, spans))
        self._shape_memo[key] = (t, t.leaf.version)  # exact, as the memo is
        return result

    def _add(self, tokens: tuple[str, ...]) -> MatchResult:
        leaf, path = self._route(tokens, create=True)
        assert leaf is not None
        t, family = self._choose(leaf, tokens)
        if t is None:
            result = self._create(leaf, path, tokens)
        elif family is not None:
            result = self._merge(t, family, tokens)
        else:
            t.count += 1
            changed = self._generalise(t, [tokens])
            result = MatchResult(t.id, t.result.template, False, True) if changed else t.result
        # Whatever changed, the same tokens would now join this template unchanged: a new
        # template matches them exactly (nothing else in the leaf reached the threshold),
        # and a generalised or merged one only gained on the others. So the memo is exact.
        self._remember(tokens, self._by_id[result.template_id])
        return result

    def _remember(self, tokens: tuple[str, ...], t: _Template) -> None:
        if len(self._memo) >= _MEMO_SIZE:
            self._memo.clear()  # a cheap bound: hot lines come back on their next sighting
        self._memo[tokens] = (t, t.leaf.version)

    def _route(self, tokens: tuple[str, ...], create: bool
               ) -> tuple[_Node | None, tuple[str, ...]]:
        # Where a token sequence goes never changes once its leaf exists: a child, once
        # made, stays, and a full node stays full. So routes are memoised by their key.
        key = (len(tokens), *tokens[: self._lead])
        found = self._routes.get(key)
        if found is None:
            found = self._walk(tokens, create)
            if found[0] is not None:
                if len(self._routes) >= _MEMO_SIZE:
                    self._routes.clear()
                self._routes[key] = found  # type: ignore[assignment]
        return found

    def _walk(self, tokens: Sequence[str], create: bool) -> tuple[_Node | None, tuple[str, ...]]:
        keys = [str(len(tokens)), *map(_route_key, tokens[: self._lead])]
        node, path = self._root, []
        for level, key in enumerate(keys):
            child = node.children.get(key)
            if (child is None and level and key != WILDCARD
                    and len(node.children) >= self.params.max_children):
                key = WILDCARD
                child = node.children.get(key)
            if child is None:
                if not create:
                    return None, tuple(path)
                child = node.children[key] = _Node()
            path.append(key)
            node = child
        return node, tuple(path)

    def _word(self, token: str) -> tuple[bool, str]:
        hit = self._words.get(token)
        if hit is None:
            hit = token_role(token)
            if len(self._words) >= _MEMO_SIZE:
                self._words.clear()
            self._words[token] = hit
        return hit

    def _score(self, t: _Template, tokens: Sequence[str], words: list[tuple[bool, str]]
               ) -> tuple[float, int, int]:
        """Similarity, the number of word-for-word conflicts and the last one's position."""
        w = self.params.wildcard_weight
        tw = self.params.typed_weight
        same = weight = 0.0
        conflicts, where = 0, -1
        for i, a in enumerate(t.tokens):
            b_slot, b_word = words[i]
            if a == tokens[i] or a == WILDCARD:
                if b_slot:
                    # Two variables agree on nothing but being variables: weigh them by
                    # ``typed_weight`` (0 = judge only by the constant words).
                    same += tw
                    weight += tw
                else:
                    same += 1.0 if a != WILDCARD else w
                    weight += 1.0
                continue
            a_slot, a_word = self._word(a)
            if a_slot and b_slot:
                same += tw
                weight += tw
                continue
            weight += 1.0
            if words_disagree(a_word, b_word) and not follows_name(tokens, i):
                conflicts += 1
                where = i
        return (same / weight if weight else 1.0), conflicts, where

    def _choose(self, leaf: _Node, tokens: tuple[str, ...]
                ) -> tuple[_Template | None, list[_Template] | None]:
        """``(t, None)``: join ``t``; ``(t, family)``: merge the family into ``t``; else new."""
        if not leaf.templates:
            return None, None
        known = self._words.get
        words = [known(tok) or self._word(tok) for tok in tokens]
        best: _Template | None = None
        best_key = (-1.0, -1)
        near: tuple[_Template, int] | None = None
        near_sim = -1.0
        for t in leaf.templates:
            sim, conflicts, where = self._score(t, tokens, words)
            if conflicts == 0:
                key = (sim, t.wildcards)
                if key > best_key:
                    best_key, best = key, t
            elif conflicts == 1 and sim > near_sim:
                near, near_sim = (t, where), sim
        threshold = self.params.similarity
        if best is not None and best_key[0] >= threshold:
            return best, None
        if near is not None and near_sim >= threshold:
            family = self._family(leaf, *near)
            variety = {t.tokens[near[1]] for t in family} | {tokens[near[1]]}
            if len(variety) >= self.params.word_variety:
                return min(family, key=self._order.index), family
        return None, None

    def _family(self, leaf: _Node, t: _Template, pos: int) -> list[_Template]:
        """``t`` and the templates of its leaf that differ from it only by the word at ``pos``."""
        out = [t]
        for s in leaf.templates:
            if s is t or s.tokens[pos] == WILDCARD or not self._word(s.tokens[pos])[1]:
                continue
            if all(i == pos or a == b or WILDCARD in (a, b)
                   or not words_disagree(self._word(a)[1], self._word(b)[1])
                   for i, (a, b) in enumerate(zip(s.tokens, t.tokens, strict=True))):
                out.append(s)
        return out

    def _generalise(self, t: _Template, others: Iterable[Sequence[str]]) -> bool:
        changed = False
        for other in others:
            for i, (a, b) in enumerate(zip(t.tokens, other, strict=True)):
                if a != b and a != WILDCARD:
                    t.tokens[i] = WILDCARD
                    changed = True
        if changed:
            t.refresh()
            t.leaf.version += 1
        return changed

    def _merge(self, keep: _Template, family: list[_Template],
               tokens: tuple[str, ...]) -> MatchResult:
        leaf = keep.leaf
        gone = [s for s in family if s is not keep]
        keep.count += 1 + sum(s.count for s in gone)
        self._generalise(keep, [*(s.tokens for s in gone), tokens])
        for s in gone:
            leaf.templates.remove(s)
            del self._by_id[s.id]
            self._aliases[s.id] = keep.id
        for old, new in self._aliases.items():
            if new in self._aliases:  # an alias of a template merged just now
                self._aliases[old] = keep.id
        leaf.version += 1
        return MatchResult(keep.id, keep.result.template, False, True)

    def _create(self, leaf: _Node, path: tuple[str, ...], tokens: Sequence[str]) -> MatchResult:
        text = " ".join(tokens)
        t = _Template(self._new_id(text), list(tokens), 1, path, leaf, text)
        self._by_id[t.id] = t
        self._order.append(t)
        leaf.templates.append(t)
        leaf.version += 1
        return MatchResult(t.id, text, True, False)

    def _new_id(self, text: str) -> str:
        base = template_id_for(text)
        tid, n = base, 1
        # The same first text can recur once its first template has generalised away.
        while tid in self._by_id or tid in self._aliases:
            n += 1
            tid = f"{base}~{n}"
        return tid

    def match(self, message: str) -> str | None:
        """The id of the template ``message`` is an instance of, without learning from it."""
        tokens = self._masker.key(message)
        hit = self._memo.get(tokens)
        if hit is not None and hit[0].leaf.version == hit[1]:
            return hit[0].id
        leaf, _ = self._route(tokens, create=False)
        if leaf is None:
            return None
        t, family = self._choose(leaf, tokens)
        if t is None or family is not None:
            return None
        if all(a in (WILDCARD, b) for a, b in zip(t.tokens, tokens, strict=True)):
            return t.id
        return None

    # -- reading ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._by_id)

    def canonical(self, template_id: str) -> str:
        """The live id for ``template_id``: itself, or the template it was merged into."""
        return self._aliases.get(template_id, template_id)

    def template(self, template_id: str) -> str:
        return self._by_id[self.canonical(template_id)].result.template

    def templates(self) -> pd.DataFrame:
        """One row per template: ``EventId, EventTemplate, PlainTemplate, Occurrences``."""
        rows = [(t.id, t.result.template, plain(t.result.template), t.count)
                for t in self._order if t.id in self._by_id]
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
                for t in self._order if t.id in self._by_id
            ],
            "aliases": dict(self._aliases),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TemplateMiner:
        if state.get("version") not in _READABLE_VERSIONS:
            raise ValueError(f"unknown template-miner state version {state.get('version')!r}")
        miner = cls(MinerParams(**state["params"]))
        old_routes = state["version"] < 3
        for item in state["templates"]:
            node = miner._root
            path = list(item["path"])
            if old_routes and path:  # the first key is the token count, never re-keyed
                path[1:] = map(_route_key, path[1:])
            for key in path:
                node = node.children.setdefault(key, _Node())
            t = _Template(item["id"], list(item["tokens"]), int(item["count"]),
                          tuple(path), node)
            miner._order.append(t)
            miner._by_id[t.id] = t
            node.templates.append(t)
        miner._aliases = dict(state.get("aliases", {}))
        return miner


def mine(
    messages: Iterable[str], params: MinerParams | None = None, *, plain_templates: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """``EventId, EventTemplate`` for each message, as the templates stand after all of them.

    A message whose template was later merged into another gets the surviving id.
    ``on_progress(n)`` is called after every ``PROGRESS_EVERY`` messages (and the rest).
    """
    miner = TemplateMiner(params)
    add = miner.add
    if on_progress is None:
        ids = [add(m).template_id for m in messages]
    else:
        ids = []
        for batch in _batches(messages, PROGRESS_EVERY):
            ids.extend(add(m).template_id for m in batch)
            on_progress(len(batch))
    final = miner._aliases.get
    ids = [final(i, i) for i in ids]
    table = miner.templates().set_index("EventId")
    column = "PlainTemplate" if plain_templates else "EventTemplate"
    texts = table[column].to_dict()
    return pd.DataFrame({"EventId": ids, "EventTemplate": [texts[i] for i in ids]})


PROGRESS_EVERY = 4096


def _batches(items: Iterable[str], size: int) -> Iterator[list[str]]:
    it = iter(items)
    while batch := list(itertools.islice(it, size)):
        yield batch


def structured(contents: Sequence[str], params: MinerParams | None = None, *,
               plain_templates: bool = True,
               on_progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """LogHub's structured-CSV convention: ``LineId, Content, EventId, EventTemplate``.

    ``contents`` are message bodies with the log header already removed (see
    ``opscockpit.sources.log_lines.split_headers``); ``LineId`` counts from 1 and the
    templates use the plain ``<*>`` spelling LogHub compares against (typed slots such
    as ``<IP>`` with ``plain_templates=False``).
    """
    frame = mine(contents, params, plain_templates=plain_templates, on_progress=on_progress)
    frame.insert(0, "Content", list(contents))
    frame.insert(0, "LineId", range(1, len(contents) + 1))
    return frame


def placeholders(template: str) -> list[str]:
    """The slot types of ``template`` in order, e.g. ``['<IP>', '<*>']``."""
    return PLACEHOLDER_RE.findall(template)
