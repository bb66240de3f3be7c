"""HTTP behaviour the CI sources share: auth from an environment variable, timeouts,
bounded retries with jitter, rate limits, ETag revalidation, and secret-free errors.

Every failure leaves here as a :class:`SourceError` whose text is safe to show on a pane
or in a log: it names the environment variable that holds the token, never the token.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any, TypeVar

import httpx

from opscockpit.sources.base import Option, SourceError

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
Now = Callable[[], datetime]

REDACTED = "***"
# Servers echo more than they should; anything after these words is hidden from reasons.
_CREDENTIAL_WORDS = re.compile(
    r"(?i)(token|authorization|password|secret|bearer)(\s*[:=]\s*|\s+)(\S+)"
)


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Hide every known secret, and anything that looks like a credential, in ``text``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return _CREDENTIAL_WORDS.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


def display_url(url: str) -> str:
    """``url`` without user or password, fit for a reason shown on a pane or in a log."""
    parsed = httpx.URL(url)
    return str(parsed.copy_with(username=None, password=None)) if parsed.userinfo else url


@dataclass(frozen=True, slots=True)
class TokenAuth:
    """How a token named by an environment variable goes on the wire.

    Only the variable's name is kept; the value is read when a request is built, so it
    never sits in a settings dict, a repr or a record.
    """

    env: str
    header: str = "Authorization"
    scheme: str = "Bearer"  # "" sends the token as the header's whole value
    basic_user: str = ""  # set: HTTP basic auth with this user and the token as password

    def token(self) -> str:
        return os.environ.get(self.env, "") if self.env else ""

    def apply(self, headers: dict[str, str]) -> httpx.Auth | None:
        token = self.token()
        if not token:
            return None
        if self.basic_user:
            return httpx.BasicAuth(self.basic_user, token)
        headers[self.header] = f"{self.scheme} {token}" if self.scheme else token
        return None

    def __repr__(self) -> str:
        return f"TokenAuth(env={self.env!r})"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries inside one poll, for 5xx answers and timeouts only."""

    tries: int = 3
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0

    def delay(self, attempt: int, jitter: float) -> float:
        """Exponential backoff with "equal jitter": half fixed, half random."""
        ceiling = min(self.max_delay_s, self.base_delay_s * (2**attempt))
        return ceiling / 2 + ceiling / 2 * jitter


@dataclass(slots=True)
class _Cached:
    etag: str
    value: Any
    next_url: str | None


@dataclass(frozen=True, slots=True)
class Page:
    """One answer: the parsed value, the next page if any, and whether it came from cache."""

    value: Any
    next_url: str | None
    from_cache: bool
    headers: Mapping[str, str]


def next_link(link_header: str | None) -> str | None:
    """The ``rel="next"`` target of an RFC 8288 ``Link`` header."""
    if not link_header:
        return None
    for part in link_header.split(","):
        target, _, params = part.partition(";")
        if re.search(r'rel\s*=\s*"?next"?', params):
            return target.strip().strip("<>")
    return None


def parse_time(value: Any) -> datetime | None:
    """Read the timestamps CI systems send: ISO 8601, ``2016-08-12 15:23:28 UTC``, epoch ms."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 10**11 else value
        return datetime.fromtimestamp(seconds, UTC)
    if not isinstance(value, str):
        raise ValueError(f"not a timestamp: {value!r}")
    text = value.strip()
    if text.endswith(" UTC"):
        text = text[:-4] + "+00:00"
    elif text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


class CiHttp:
    """GET JSON from one CI system with the house rules applied.

    ``label`` names the system in reasons ("GitHub"). ``sleep``, ``jitter`` and ``now`` are
    injectable so tests never wait and rate-limit times are deterministic.
    """

    def __init__(
        self,
        label: str,
        auth: TokenAuth,
        *,
        timeout_s: float = 10.0,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        sleep: Sleep | None = None,
        jitter: Callable[[], float] | None = None,
        now: Now | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        cache_size: int = 1024,
    ) -> None:
        self.label = label
        self.cache_size = cache_size
        self.auth = auth
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self.headers = dict(headers or {})
        self._sleep: Sleep = sleep or asyncio.sleep
        self._jitter = jitter or random.random
        self._now: Now = now or (lambda: datetime.now(UTC))
        self._transport = transport
        self._cache: dict[str, _Cached] = {}
        self._client: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"CiHttp({self.label!r}, {self.auth!r})"

    async def __aenter__(self) -> CiHttp:
        self._client = httpx.AsyncClient(
            timeout=self.timeout_s, transport=self._transport, follow_redirects=True
        )
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def get(
        self,
        url: str,
        parse: Callable[[Any], T],
        *,
        params: Mapping[str, str | int] | None = None,
        what: str = "",
        next_page: Callable[[httpx.Response], str | None] | None = None,
    ) -> Page:
        """GET ``url``, parse its JSON with ``parse`` and return a :class:`Page`.

        A 304 answer to our ``If-None-Match`` hands back the value parsed last time, so an
        unchanged page costs neither rate limit nor parsing.
        """
        if self._client is None:
            raise RuntimeError("use CiHttp inside 'async with'")
        request_url = str(httpx.URL(url, params=params)) if params else url
        what = what or httpx.URL(url).path
        cached = self._cache.get(request_url)
        headers = {"Accept": "application/json", **self.headers}
        if cached is not None:
            headers["If-None-Match"] = cached.etag
        response = await self._send(request_url, headers, what)
        if response.status_code == HTTPStatus.NOT_MODIFIED and cached is not None:
            self._remember(request_url, cached)
            return Page(cached.value, cached.next_url, True, response.headers)
        self._raise_for_status(response, what)
        try:
            body = response.json()
        except ValueError:
            raise SourceError(
                f"{self.label} sent a body that is not JSON for {what}"
            ) from None
        try:
            value = parse(body)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SourceError(
                f"{self.label} sent an unexpected shape for {what} ({type(exc).__name__}: "
                f"{redact(str(exc)[:80], (self.auth.token(),))})"
            ) from None
        following = next_page(response) if next_page else next_link(response.headers.get("link"))
        etag = response.headers.get("etag")
        if etag:
            self._remember(request_url, _Cached(etag, value, following))
        return Page(value, following, False, response.headers)

    def _remember(self, url: str, entry: _Cached) -> None:
        # Job pages are one URL per run: without a bound the cache would grow forever.
        self._cache.pop(url, None)
        self._cache[url] = entry
        while len(self._cache) > self.cache_size:
            del self._cache[next(iter(self._cache))]

    async def _send(self, url: str, headers: dict[str, str], what: str) -> httpx.Response:
        if self._client is None:
            raise RuntimeError("use CiHttp inside 'async with'")
        auth = self.auth.apply(headers)
        last_problem = ""
        for attempt in range(self.retry.tries):
            if attempt:
                await self._sleep(self.retry.delay(attempt - 1, self._jitter()))
            try:
                response = await self._client.get(
                    url, headers=headers, auth=auth or httpx.USE_CLIENT_DEFAULT
                )
            except httpx.TimeoutException:
                last_problem = f"did not answer within {self.timeout_s:g}s"
                continue
            except httpx.TransportError as exc:
                raise SourceError(
                    f"cannot reach {self.label} at {httpx.URL(url).host}: {type(exc).__name__}"
                ) from None
            if response.status_code >= 500:
                last_problem = f"answered {response.status_code} {response.reason_phrase}"
                continue
            return response
        raise SourceError(
            f"{self.label} {last_problem} for {what} ({self.retry.tries} tries); "
            "will retry next poll"
        )

    def _raise_for_status(self, response: httpx.Response, what: str) -> None:
        code = response.status_code
        if code < 400:
            return
        env = self.auth.env
        if self._is_rate_limited(response):
            wait = self._retry_after(response)
            until = (self._now() + timedelta(seconds=wait)).strftime("%H:%M:%S")
            raise SourceError(
                f"rate limited by {self.label} until {until} UTC", retry_after_s=wait
            )
        status = f"{self.label} answered {code} {response.reason_phrase}"
        detail = self._server_message(response)
        if code == HTTPStatus.UNAUTHORIZED:
            hint = (
                f"check the token in ${env}" if self.auth.token() else f"${env} is not set"
            )
            raise SourceError(f"{status}: {hint}{detail}")
        if code == HTTPStatus.FORBIDDEN:
            raise SourceError(f"{status}: the token in ${env} may not read {what}{detail}")
        if code == HTTPStatus.NOT_FOUND:
            raise SourceError(f"{status} for {what}: check the name and the token's access")
        raise SourceError(f"{status} for {what}{detail}")

    def _server_message(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return ""
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(message, str) or not message:
            return ""
        return f" ({redact(message[:120], (self.auth.token(),))})"

    @staticmethod
    def _is_rate_limited(response: httpx.Response) -> bool:
        if response.status_code == HTTPStatus.TOO_MANY_REQUESTS:
            return True
        if response.status_code != HTTPStatus.FORBIDDEN:
            return False
        h = response.headers
        return h.get("x-ratelimit-remaining") == "0" or "retry-after" in h

    def _retry_after(self, response: httpx.Response) -> float:
        h = response.headers
        retry_after = h.get("retry-after")
        if retry_after and retry_after.strip().isdigit():
            return float(retry_after)
        reset = h.get("x-ratelimit-reset") or h.get("ratelimit-reset")
        if reset and reset.strip().isdigit():
            value = int(reset)
            # GitHub sends an epoch second; IETF RateLimit-Reset sends seconds to wait.
            if value > 10**9:
                return max(1.0, value - self._now().timestamp())
            return float(max(1, value))
        return 60.0


@dataclass(frozen=True, slots=True)
class HttpHooks:
    """What tests inject instead of real waiting, randomness and time."""

    sleep: Sleep | None = None
    jitter: Callable[[], float] | None = None
    now: Now | None = None
    transport: httpx.AsyncBaseTransport | None = None


class SeenRuns:
    """Remembers the last state of each run so a poll returns only what changed.

    The store appends; re-sending an unchanged run every poll would fill it with copies.
    Memory stays bounded: the ``limit`` most recently seen runs are remembered.
    """

    def __init__(self, limit: int = 5000) -> None:
        self.limit = limit
        self._state: dict[tuple[str, ...], tuple[object, ...]] = {}
        self._next: dict[tuple[str, ...], tuple[object, ...]] = {}

    def changed(self, key: tuple[str, ...], state: tuple[object, ...]) -> bool:
        self._next[key] = state
        return self._state.get(key) != state

    def known(self, key: tuple[str, ...]) -> bool:
        return key in self._state

    def last(self, key: tuple[str, ...]) -> tuple[object, ...] | None:
        """The state remembered from earlier polls."""
        return self._state.get(key)

    def commit(self) -> None:
        """End of a successful poll: what was seen becomes what is remembered."""
        for key, state in self._next.items():
            self._state.pop(key, None)
            self._state[key] = state
        self._next = {}
        while len(self._state) > self.limit:
            del self._state[next(iter(self._state))]

    def rollback(self) -> None:
        """A failed poll forgets what it saw, so the next poll sends it again."""
        self._next = {}


# What every CI source takes beside its own: deploy rules and how hard to try a request.
CI_OPTIONS: tuple[Option, ...] = (
    Option("deploys", list, [], help="deploy rules (see deploy_rules.py)"),
    Option("timeout_s", float, 10.0, help="per request"),
    Option("retries", int, 3, help="tries per request on 5xx and timeouts"),
)
