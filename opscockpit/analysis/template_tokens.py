"""Typed-variable masking and tokenisation for the template miner.

Masking runs *before* the prefix-tree search: a message whose first token is an IP
address or a request id would otherwise open a new branch per value and never meet
its siblings. One compiled alternation does every type in a single left-to-right pass,
so masking costs O(len(message)); the miner masks by token through :class:`Masker`, whose
memos make a line of a known shape cost one translate and one lookup. The patterns are
general on purpose: the miner is measured with one configuration on log sets it has never
seen. The last section says what a masked token means to the miner's similarity: a slot,
a word, or a value of some key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

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
    # "\d[xX]" rather than "0[xX]" so that no mask tells one digit from another (see DIGIT_SHAPE).
    ("HEX", r"(?<![\w-])(?:\d[xX][0-9a-fA-F]+|(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])"
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


# Digit shape of a token: every ASCII digit becomes "0", lengths unchanged. No mask tells
# one digit from another (they say ``\d`` or ``[0-9a-fA-F]``), so a token masks exactly like
# its shape wherever the shape's digits all fall inside masked spans, and 10.250.19.102
# shares its shape with most addresses. ``bytes.translate`` is ~10x faster than
# ``str.translate``.
DIGIT_SHAPE = bytes.maketrans(b"123456789", b"000000000")
_DIGIT_RE = re.compile(r"\d")


def line_shape(message: str) -> bytes:
    """The digit shape of a line, as bytes: hashing them is as fast and decoding is not free."""
    return message.encode("utf-8", "surrogatepass").translate(DIGIT_SHAPE)


# What each type cannot match without ("d": a digit). A token lacking them skips the type,
# so the alternation built for it is shorter: same result, a fraction of the time.
_NEEDS: dict[str, str] = {
    "URL": ":/", "EMAIL": "@", "UUID": "-", "IP": "d.", "IP6": ":", "TIME": "d:", "DATE": "d-",
    "PATH": "/", "HOST": ".", "HEX": "d", "ID": "d", "DURATION": "d", "NUM": "d",
}
_FEATURES = "d.:-/@"
_VARIANTS: dict[int, re.Pattern[str] | None] = {}


def _variant(features: int) -> re.Pattern[str] | None:
    have = {f for i, f in enumerate(_FEATURES) if features >> i & 1}
    kept = [(name, rx) for name, rx in _PATTERNS if set(_NEEDS[name]) <= have]
    found = re.compile("|".join(f"(?P<{name}>{rx})" for name, rx in kept)) if kept else None
    _VARIANTS[features] = found
    return found


def _mask_token(token: str) -> str:
    """``mask`` for one whitespace-free token, skipping the types it cannot hold."""
    if token.isalpha():
        return token
    if token.isdigit() and token.isascii():
        return "<NUM>"  # only NUM takes bare digits
    # One bit per character of _FEATURES, unrolled: this runs once per new token shape.
    # Shapes spell their ASCII digits "0": the regex only runs for the rest.
    features = (("0" in token or _DIGIT_RE.search(token) is not None) | ("." in token) << 1
                | (":" in token) << 2 | ("-" in token) << 3 | ("/" in token) << 4
                | ("@" in token) << 5)
    rx = _VARIANTS[features] if features in _VARIANTS else _variant(features)
    if rx is None:
        return token
    found = rx.search(token)
    if found is None:
        return token
    if found.end() == len(token) and not found.start():  # the usual case: one value
        return _TOKEN_OF[found.lastgroup or "NUM"]
    # ``sub`` with a callback costs twice this loop on one- or two-value tokens. ``search``
    # from ``pos`` still sees the text before it, so look-behinds judge as ``sub`` does.
    parts: list[str] = []
    pos = 0
    while found is not None:
        parts += token[pos:found.start()], _TOKEN_OF[found.lastgroup or "NUM"]
        pos = found.end()
        found = rx.search(token, pos)
    parts.append(token[pos:])
    masked = "".join(parts)
    return _LIST_RE.sub(r"\1", masked) if ",<" in masked else masked


Spans = tuple[slice, ...]  # where, in a line's bytes, the text that decides its key is


class Masker:
    """Masking by whitespace token with bounded memos; ``key`` is the miner's hot path.

    Masks never span whitespace and their look-arounds treat whitespace like the ends of a
    string, so masking token by token gives the same result as masking the whole line.
    The memos are keyed by digit *shape* (see ``DIGIT_SHAPE``): values rarely recur (a block
    id, a port) but their shapes do, ``blk_-1608999687919862906`` and every other block
    id share ``blk_-0000000000000000000``, and a word is its own shape. So is a whole
    line: most lines of a log have a shape seen before, and cost one translate, one
    hash and one lookup (of the bytes: decoding would cost as much as the lookup). A
    shape whose mask leaves a digit unmasked (``ssh2``) cannot stand for its tokens;
    those are masked one by one, by their own text, or when the shape masked nothing
    (``jk2_init()``) are their own mask: no mask tells one digit from another.
    """

    def __init__(self, max_cache: int = 200_000, max_lines: int = 1 << 15) -> None:
        self._shapes: dict[str, str] = {}  # token shape -> masked shape, "" = not usable
        # The unusable shapes that masked nothing: their tokens are their own mask.
        self._itself: set[str] = set()
        self._cache: dict[str, str] = {}  # token -> masked, for the other unusable shapes
        self._lines: dict[bytes, tuple[str, ...]] = {}  # line shape -> masked tokens
        # line shape -> masked tokens, where tokens are their own mask, where masked exactly,
        # and the byte spans of both in the line (see ``shaped``)
        self._mixed: dict[bytes, tuple[tuple[str, ...], tuple[int, ...], tuple[int, ...],
                                       Spans]] = {}
        self._max_cache = max_cache
        self._max_lines = max_lines

    def tokens(self, message: str) -> list[str]:
        return list(self.key(message))

    def key(self, message: str) -> tuple[str, ...]:
        """The masked tokens of ``message`` as a tuple (hashable: the miner's memo key)."""
        return self.shaped(message, line_shape(message))[0]

    def shaped(self, message: str, shape: bytes) -> tuple[tuple[str, ...], Spans]:
        """``key`` given the line's shape, and what decides it besides the shape.

        That is ``()`` when the shape alone does, else the slices of the line's bytes (encoded
        as ``line_shape`` encodes it) whose text does: a shape keeps every byte offset.
        """
        hit = self._lines.get(shape)
        if hit is not None:
            return hit, ()
        out, itself, exact, spans = self._mixed.get(shape) or self._learn_line(shape)
        if not spans:
            return out, spans
        words = message.split()
        masked = list(out)
        for i in itself:
            masked[i] = words[i]
        for i in exact:
            masked[i] = self._exact(words[i])
        return tuple(masked), spans

    def _learn_line(self, line: bytes
                    ) -> tuple[tuple[str, ...], tuple[int, ...], tuple[int, ...], Spans]:
        text = line.decode("utf-8", "surrogatepass")
        shapes = text.split()
        out = tuple(map(self._shapes.get, shapes))
        # ``all`` first: one scan in C for the usual line, every shape known and usable.
        if not all(out) and None in out:
            # A shape repeated in the line is learnt twice: same result, rarer than a test.
            learn = self._learn_shape
            out = tuple([m if m is not None else learn(s)
                         for m, s in zip(out, shapes, strict=True)])
        if all(out):
            if len(self._lines) >= self._max_lines:
                self._lines.clear()  # a cheap bound: the hot lines come back when next seen
            self._lines[line] = out  # type: ignore[assignment]
            return out, (), (), ()  # type: ignore[return-value]
        itself: list[int] = []
        exact: list[int] = []
        for i, m in enumerate(out):
            if not m:
                (itself if shapes[i] in self._itself else exact).append(i)
        own = sorted(itself + exact)
        if " ".join(shapes) == text:  # the usual spacing: offsets follow from the lengths
            spans = tuple([slice(a := sum(map(len, shapes[:i])) + i, a + len(shapes[i]))
                           for i in own])
        else:
            found, pos, at = [], 0, iter(own)
            wanted = next(at)
            for i, word in enumerate(shapes[: own[-1] + 1]):
                pos = text.find(word, pos)  # nothing but space before it since the last word
                if i == wanted:
                    found.append(slice(pos, pos + len(word)))
                    wanted = next(at, -1)
                pos += len(word)
            spans = tuple(found)
        if not text.isascii():
            spans = tuple(slice(len(text[:c.start].encode("utf-8", "surrogatepass")),
                                len(text[:c.stop].encode("utf-8", "surrogatepass")))
                          for c in spans)
        if len(self._mixed) >= self._max_lines:
            self._mixed.clear()
        entry = self._mixed[line] = (out, tuple(itself), tuple(exact), spans)
        return entry

    def _learn_shape(self, shape: str) -> str:
        if len(self._shapes) >= self._max_cache:
            self._shapes.clear()
            self._itself.clear()
        if shape.isalpha():  # a word: its own mask, and a third of the shapes of a log
            self._shapes[shape] = shape
            return shape
        masked = _mask_token(shape)
        # A shape's ASCII digits are all "0": without one, no regex is needed.
        if (("0" in masked or not masked.isascii())
                and _DIGIT_RE.search(PLACEHOLDER_RE.sub("", masked)) is not None):
            if masked == shape:
                self._itself.add(shape)
            masked = ""
        self._shapes[shape] = masked
        return masked

    def _exact(self, token: str) -> str:
        hit = self._cache.get(token)
        if hit is None:
            hit = _mask_token(token)
            if len(self._cache) >= self._max_cache:
                self._cache.clear()
            self._cache[token] = hit
        return hit


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


# -- token roles, for the miner's similarity ------------------------------------------------
TYPED_SLOTS = frozenset(f"<{name}>" for name in MASK_TYPES)
_ALNUM = re.compile(r"[^\W_]")
_NOT_LETTER = re.compile(r"[\W\d_]+")

# Names of days and months only ever date something: they weigh like typed slots. Title
# and upper case only, so that "may" and "sun" in a sentence stay words.
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "monday", "tuesday", "wednesday",
         "thursday", "friday", "saturday", "sunday")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
           "dec", "january", "february", "march", "april", "june", "july", "august",
           "september", "october", "november", "december")
_CALENDAR = frozenset(form for name in _DAYS + _MONTHS for form in (name.title(), name.upper()))

# Nouns after which a word is a name, not a verb or a state: "for user alice". Kept to
# the one noun the data shows ("user cyrus", "invalid user admin"); a wrong entry costs
# no more than Drain's behaviour at that position ("user created" / "user deleted").
_NAME_NOUNS = frozenset({"user", "username"})
_PUNCT = "\"'`()[]{}<>,;:.!?=/\\|"


def has_digit(token: str) -> bool:
    return _DIGIT_RE.search(token) is not None


# Two letters joined by a dot: ``com.example.sync:``, ``svc.alpha``, ``Foo.bar()``. Not
# ``done.`` (a sentence's end) nor ``v1.2`` (digits: a value already).
_DOTTED = re.compile(r"[^\W\d_]\.[^\W\d_]")


def is_dotted_name(token: str) -> bool:
    """A dotted name: a class, a bundle, a config key… one of many of its kind."""
    return _DOTTED.search(token) is not None


def is_slot(token: str) -> bool:
    """A typed slot, possibly wrapped in punctuation (``<UUID>]``, ``(<NUM>)``)."""
    if token in TYPED_SLOTS:
        return True
    if "<" not in token:
        return False
    rest = PLACEHOLDER_RE.sub("", token)
    return rest != token and _ALNUM.search(rest) is None


def word_of(token: str) -> str:
    """What a masked token says in words: ``(reserved)`` -> ``reserved``; "" for a value.

    A token with a digit the masks left (``wl0``) is a value. A token holding a slot is
    a value; after ``key=``, ``key:`` or ``key.`` it is a value of that key
    (``LOGIN(uid=<NUM>)`` -> ``<LOGINuid``): values of different keys disagree, a value
    and a word never do. (After ``name-`` it is just a value: ``web-<NUM>``, ``db-<NUM>``.)
    """
    if token.isalpha():
        return token
    if "<" in token:
        found = PLACEHOLDER_RE.search(token)
        if found is not None:
            head = token[: found.start()]
            key = _NOT_LETTER.sub("", head) if head[-1:] in ("=", ":", ".") else ""
            return "<" + key if key else ""
    if has_digit(token):
        return ""
    return _NOT_LETTER.sub("", token)


def token_role(token: str) -> tuple[bool, str]:
    """``(is a variable slot, its word)`` for a masked token; see :func:`word_of`."""
    if token.isalpha():  # most tokens: a word, or the name of a day or a month
        return (True, "") if token in _CALENDAR else (False, token)
    if is_slot(token) or _NOT_LETTER.sub("", token) in _CALENDAR:
        return True, ""
    return False, word_of(token)


def words_disagree(a: str, b: str) -> bool:
    """Two different words, or values of two different keys (see :func:`word_of`)."""
    return bool(a and b and a != b and (a[0] == "<") == (b[0] == "<"))


def follows_name(tokens: Sequence[str], i: int) -> bool:
    """Whether ``tokens[i]`` follows a noun that makes it a name (``user alice``)."""
    return i > 0 and tokens[i - 1].lower().strip(_PUNCT) in _NAME_NOUNS
