"""Typed-variable masking and tokenisation for the template miner.

Masking runs *before* the prefix-tree search: a message whose first token is an IP
address or a request id would otherwise open a new branch per value and never meet
its siblings. One compiled alternation does every type in a single left-to-right pass,
so masking costs O(len(message)). The patterns are general on purpose: the miner is
measured with one configuration on log sets it has never seen.
"""

from __future__ import annotations

import re
from collections.abc import Callable

PLACEHOLDER_RE = re.compile(r"<(?:\*|[A-Z][A-Z0-9]*)>")
WILDCARD = "<*>"

# Order matters where two types can start at the same offset: the alternation picks the
# first branch that matches, so the more specific shapes come first.
_TLDS = (
    "com|net|org|edu|gov|mil|int|io|dev|app|cloud|local|lan|internal|localdomain|arpa|"
    "info|biz|us|uk|de|fr|nl|eu|cn|jp|ru|br|in|au|ca|ch|se|no|it|es|pl|kr|tw|hk|sg|co"
)
_PATTERNS: tuple[tuple[str, str], ...] = (
    ("URL", r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+"),
    ("EMAIL", r"\b[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\b"),
    ("UUID", r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
    ("IP", r"(?<![\w.:])(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?![\w.]|:\w)"),
    (
        # Needs "::" or seven colons so that clock times (12:30:01) never qualify.
        "IP6",
        r"(?<![\w:.])\[?(?:(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}"
        r"|(?:[0-9a-fA-F]{1,4}:){0,6}[0-9a-fA-F]{0,4}::(?:[0-9a-fA-F]{1,4}:){0,6}[0-9a-fA-F]{0,4})"
        r"(?:\]:\d{1,5}|\])?(?![\w:])",
    ),
    ("TIME", r"(?<![\w:.])\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?![\w:])"),
    ("DATE", r"(?<![\w-])\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?Z?)?(?![\w-])"),
    ("PATH", r"(?<![\w/.~-])~?(?:/[\w.@%+~:,=-]+){2,}/?|(?<![\w/.~-])/[\w.@%+~,=-]+\.\w+"),
    ("HOST", rf"(?<![\w.-])(?:[A-Za-z0-9-]+\.)+(?:{_TLDS})(?::\d{{1,5}})?(?![\w.-]|\.\w)"),
    ("HEX", r"(?<![\w-])(?:0[xX][0-9a-fA-F]+|(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])"
            r"[0-9a-fA-F]{8,})(?![\w-])"),
    ("ID", r"(?<![\w-])[A-Za-z]+[_-]-?\d{4,}(?![\w-])"),
    (
        "DURATION",
        r"(?<![\w.])\d+(?:\.\d+)?(?:ns|us|µs|ms|s|sec|secs|seconds|m|min|mins|minutes|h|hr|hrs|"
        r"hours|d|days)(?![\w])",
    ),
    (
        "NUM",
        r"(?<![\w])[-+]?\d+(?:\.\d+)*(?:[eE][-+]?\d+)?"
        r"(?:[kKMGTP]i?[bB]|[bB]|%)?(?![\w]|\.\d)",
    ),
)
MASK_TYPES: tuple[str, ...] = tuple(name for name, _ in _PATTERNS)
_MASK_RE = re.compile("|".join(f"(?P<{name}>{rx})" for name, rx in _PATTERNS))
_TOKEN_OF = {name: f"<{name}>" for name in MASK_TYPES}


def _replace(match: re.Match[str]) -> str:
    kind = match.lastgroup or "NUM"
    return _TOKEN_OF[kind]


# "10.0.0.1,10.0.0.2" is one value (a list), not a new shape per list length.
_LIST_RE = re.compile(r"(<[A-Z][A-Z0-9]*>)(?:,\1)+")


def mask(message: str) -> str:
    """Replace every typed variable in ``message`` by its placeholder (``<IP>``, ``<NUM>``…)."""
    masked = _MASK_RE.sub(_replace, message)
    return _LIST_RE.sub(r"\1", masked) if ",<" in masked else masked


class Masker:
    """Token-wise masking with a bounded memo: constant words recur on almost every line.

    Masks never span whitespace and their look-arounds treat whitespace like the ends of
    a string, so masking token by token gives the same result as masking the whole line.
    """

    def __init__(self, max_cache: int = 200_000) -> None:
        self._cache: dict[str, str] = {}
        self._max_cache = max_cache

    def tokens(self, message: str) -> list[str]:
        out: list[str] = []
        cache = self._cache
        for token in message.split():
            hit = cache.get(token)
            if hit is None:
                hit = token if token.isalpha() else mask(token)
                if len(cache) >= self._max_cache:
                    cache.clear()  # a cheap bound; rebuilding the hot words is quick
                cache[token] = hit
            # A mask may yield "<NUM>,<NUM>"-style lists; collapse handled by mask().
            out.append(hit)
        return out


def tokenize(message: str, masker: Callable[[str], str] = mask) -> list[str]:
    """Masked whitespace tokens. Whitespace never belongs to a variable."""
    return masker(message).split()


def plain(template: str) -> str:
    """The LogHub spelling of a template: every typed slot becomes ``<*>``."""
    return PLACEHOLDER_RE.sub(WILDCARD, template)


def _token_regex(token: str) -> re.Pattern[str]:
    parts = PLACEHOLDER_RE.split(token)
    # A slot inside a token matches a non-empty run of non-space characters.
    return re.compile(r"\S+?".join(re.escape(p) for p in parts) + r"\Z", re.DOTALL)


def matches(template: str, message: str) -> bool:
    """True when ``message`` is an instance of ``template`` (any slot matches any word)."""
    t_tokens = template.split()
    m_tokens = message.split()
    if len(t_tokens) != len(m_tokens):
        return False
    for t, m in zip(t_tokens, m_tokens, strict=True):
        if t == m:
            continue
        if PLACEHOLDER_RE.search(t) is None:
            return False
        if not _token_regex(t).match(m):
            return False
    return True
