"""Alertmanager: the active alerts of a live Alertmanager, read through its API v2.

``GET {url}/api/v2/alerts`` lists only what is active now (silenced and inhibited alerts
included, as Alertmanager does by default). The cockpit wants events, so this source
remembers what it saw, by fingerprint:

- an alert that is new, or whose start or status changed, is emitted once as firing;
- an alert seen before and absent now has been resolved: it is emitted once more, with
  status ``resolved`` at the time of the poll, so its cluster closes.

Parsing is :func:`opscockpit.sources.alert_formats.alertmanager_alerts`, the same code
that reads recorded API v2 lists and webhook payloads. That module imports pandas, which
the live cockpit must not pay for while nothing is firing, so it is imported only once a
poll has an alert to read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, ClassVar

import httpx

from opscockpit.records import Alert
from opscockpit.sources.base import Batch, Option, Source, SourceError
from opscockpit.sources.ci_http import HttpHooks, TokenAuth, display_url, redact

log = logging.getLogger(__name__)

ALERTS_PATH = "/api/v2/alerts"
# Below the engine's default 10 s poll timeout, so an unanswered request ends with this
# source's reason (which names Alertmanager and its URL) rather than the engine's.
REQUEST_TIMEOUT_S = 8.0
_SNIPPET = 160  # characters of a server's error body shown in a reason


@dataclass(frozen=True, slots=True)
class _Seen:
    """The last record emitted for a fingerprint, and what a change is judged on."""

    alert: Alert
    key: tuple[datetime, str]  # startsAt, status: endsAt moves on every re-send, so not it


class AlertmanagerSource(Source):
    kind: ClassVar[str] = "alertmanager"
    summary: ClassVar[str] = (
        "Alertmanager's active alerts through API v2; an alert that disappears is resolved"
    )
    options: ClassVar[tuple[Option, ...]] = (
        Option("url", str, "http://127.0.0.1:9093",
               help="Alertmanager's root, with its --web.route-prefix if it has one"),
        Option("token_env", str, "", secret_env=True,
               help="environment variable holding a bearer token (for a proxy in front)"),
        Option("filter", list, [],
               help='matchers sent as filter=, e.g. ["severity=~\\"warning|critical\\""]'),
        Option("verify_tls", bool, True, help="false accepts a self-signed certificate"),
    )
    default_interval_s: ClassVar[float] = 15.0
    default_timeout_s: ClassVar[float] = 10.0

    def __init__(
        self,
        name: str,
        settings: Mapping[str, Any] | None = None,
        *,
        hooks: HttpHooks | None = None,
    ) -> None:
        super().__init__(name, settings)
        url = self.settings["url"].strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"source {self.kind!r} url {url!r} should start with http(s)://")
        matchers = self.settings["filter"]
        if not all(isinstance(m, str) and m.strip() for m in matchers):
            raise ValueError(f"source {self.kind!r} filter should be a list of matcher strings")
        self.url = url
        self.where = display_url(url)
        self.filters: list[str] = [m.strip() for m in matchers]
        self.auth = TokenAuth(self.settings["token_env"])
        hooks = hooks or HttpHooks()
        self._now: Callable[[], datetime] = hooks.now or (lambda: datetime.now(UTC))
        self._transport = hooks.transport
        self._seen: dict[str, _Seen] = {}

    def __repr__(self) -> str:
        return f"AlertmanagerSource({self.name!r}, url={self.where!r}, {self.auth!r})"

    async def poll(self, since: datetime | None) -> Batch:
        body = await self._fetch()
        if not isinstance(body, list):
            raise SourceError(
                f"Alertmanager at {self.where} sent {type(body).__name__} where API v2 "
                f"lists alerts: check url"
            )
        current = self._parse(body)
        # No await from here on: the engine's timeout cannot cancel a half-updated memory.
        return Batch(alerts=self._changes(current, self._present(body)))

    # --- the wire ------------------------------------------------------------------
    async def _fetch(self) -> Any:
        headers = {"Accept": "application/json"}
        auth = self.auth.apply(headers)
        params = [("filter", m) for m in self.filters]
        try:
            async with httpx.AsyncClient(
                timeout=REQUEST_TIMEOUT_S, verify=self.settings["verify_tls"],
                transport=self._transport, follow_redirects=True,
            ) as client:
                response = await client.get(
                    f"{self.url}{ALERTS_PATH}", params=params, headers=headers,
                    auth=auth or httpx.USE_CLIENT_DEFAULT,
                )
        except httpx.TimeoutException:
            raise SourceError(
                f"cannot reach Alertmanager at {self.where}: no answer within "
                f"{REQUEST_TIMEOUT_S:g}s"
            ) from None
        except httpx.TransportError as exc:
            raise SourceError(
                f"cannot reach Alertmanager at {self.where}: {self._why(exc)}"
            ) from None
        self._raise_for_status(response)
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("content-type", "no content type")
            raise SourceError(
                f"Alertmanager at {self.where} sent a body that is not JSON ({kind}): "
                "check url"
            ) from None

    def _why(self, exc: httpx.TransportError) -> str:
        # httpx says only "All connection attempts failed"; the refusal sits in the chain.
        cause: BaseException | None = exc
        for _ in range(8):
            if cause is None:
                break
            if isinstance(cause, ConnectionRefusedError):
                return "connection refused (is it running, and is url right?)"
            cause = cause.__cause__ or cause.__context__
        text = redact(str(exc)[:_SNIPPET], self._secrets()) or type(exc).__name__
        if "CERTIFICATE_VERIFY_FAILED" in text:
            return f"{text} (verify_tls = false accepts a self-signed certificate)"
        return text

    def _raise_for_status(self, response: httpx.Response) -> None:
        code = response.status_code
        if code < 400:
            return
        status = f"Alertmanager at {self.where} answered {code} {response.reason_phrase}"
        env = self.auth.env
        if code in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
            if not env:
                hint = "it wants credentials; name the variable holding a bearer token"
            elif self.auth.token():
                hint = f"the token in ${env} was refused"
            else:
                hint = f"${env} is not set"
            raise SourceError(f"unauthorised: check token_env ({hint}); {status}")
        if code == HTTPStatus.NOT_FOUND:
            raise SourceError(f"{status} for {ALERTS_PATH}: is url an Alertmanager 0.16+ root?")
        detail = self._snippet(response)
        if code >= 500:
            raise SourceError(f"{status}{detail}; will retry next poll")
        # 400: Alertmanager rejects a filter it cannot parse, and says which.
        raise SourceError(f"{status}{detail}: check filter")

    def _snippet(self, response: httpx.Response) -> str:
        text = " ".join(response.text.split())[:_SNIPPET]
        return f" ({redact(text, self._secrets())})" if text else ""

    def _secrets(self) -> tuple[str, ...]:
        parsed = httpx.URL(self.url)
        return (self.auth.token(), parsed.password or "")

    # --- alerts ---------------------------------------------------------------------
    def _parse(self, body: list[Any]) -> list[Alert]:
        if not body:
            return []  # nothing firing: no parser, so no pandas
        from opscockpit.sources.alert_formats import alertmanager_alerts

        # The source's name, not "alertmanager": two Alertmanagers stay apart on the pane.
        alerts, errors = alertmanager_alerts(body, source=self.name)
        if errors and not alerts:
            raise SourceError(
                f"Alertmanager at {self.where} sent {len(body)} alerts, none readable "
                f"({redact(errors[0][:_SNIPPET], self._secrets())})"
            )
        for error in errors:
            log.debug("%s: skipped an alert: %s", self.name, error)
        return alerts

    @staticmethod
    def _present(body: list[Any]) -> set[str]:
        """Fingerprints on the wire, readable or not: an unreadable alert is not resolved."""
        return {
            str(item["fingerprint"]) for item in body
            if isinstance(item, dict) and item.get("fingerprint")
        }

    def _changes(self, current: list[Alert], present: set[str]) -> list[Alert]:
        now = self._now()
        out: list[Alert] = []
        seen: dict[str, _Seen] = {}
        for alert in current:
            key = (alert.ts, alert.status)
            before = self._seen.get(alert.fingerprint)
            if before is not None and before.key[0] != alert.ts:
                # A new start under the same fingerprint: the earlier occurrence ended
                # between two polls, so close it before opening the new one.
                out.append(self._resolved(before.alert, now))
            if before is None or before.key != key:
                out.append(alert)
            if alert.status != "resolved":
                seen[alert.fingerprint] = _Seen(alert, key)
        read = {a.fingerprint for a in current}
        for fp, before in self._seen.items():
            if fp in read:
                continue
            if fp in present:
                seen[fp] = before  # listed but unreadable this time: not resolved
                continue
            out.append(self._resolved(before.alert, now))
        self._seen = seen
        return out

    @staticmethod
    def _resolved(alert: Alert, now: datetime) -> Alert:
        """Same id as the firing record, status resolved: the store's resolution row."""
        return replace(alert, ts=now, status="resolved", ends_at=now)
