"""Alert clustering: storms become situations, background and flapping stay apart."""

from __future__ import annotations

import json
import random

import pandas as pd

from opscockpit.analysis.alert_cluster_state import CLUSTER_COLUMNS
from opscockpit.analysis.alert_clusters import AlertClusterer, cluster_alerts
from opscockpit.analysis.noise import noise_report
from opscockpit.records import Alert
from tests.analyzers.storm import background, web_api_storm

T0 = pd.Timestamp("2024-03-01", tz="UTC")


def _alert(t: float, aid: str, host: str, service: str, title: str, message: str,
           severity: str = "error", fp: str | None = None, status: str = "firing") -> dict:
    return {"ts": T0 + pd.Timedelta(seconds=t), "id": aid, "source": "test",
            "severity": severity, "host": host, "service": service, "title": title,
            "message": message, "labels": "{}", "fingerprint": fp or f"{host}|{title}",
            "status": status, "ends_at": pd.NaT}


def _row(alert: Alert) -> dict:
    """A record as the frame row the clusterer reads."""
    return {"ts": pd.Timestamp(alert.ts), "id": alert.id, "source": alert.source,
            "severity": alert.severity.value, "host": alert.host, "service": alert.service,
            "title": alert.title, "message": alert.message, "labels": "{}",
            "fingerprint": alert.fingerprint, "status": alert.status, "ends_at": pd.NaT}


def _background() -> list[dict]:
    return [_row(a) for a in background()]


def _web_api_storm(rng: random.Random, start: float, prefix: str = "s") -> list[dict]:
    return [_row(a) for a in web_api_storm(start=start, prefix=prefix, rng=rng)]


def _billing_storm(rng: random.Random, start: float) -> list[dict]:
    rows, t, n = [], start, 0
    while t < start + 470:
        title, message = rng.choice([
            ("GatewayErrors", f"payment gateway returned {rng.choice([502, 503])}"),
            ("LedgerDeadlock", f"ledger write failed: deadlock on txn {rng.randint(1, 10**6)}"),
        ])
        rows.append(_alert(t, f"b{n}", f"bill-{rng.randint(1, 2)}", "billing", title, message))
        n += 1
        t += rng.uniform(2, 8)
    return rows


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows).sort_values(["ts", "id"]).reset_index(drop=True)


def _cluster_of(clusters: pd.DataFrame, alert_id: str) -> str:
    return next(c for c, ids in zip(clusters["id"], clusters["alert_ids"], strict=True)
                if alert_id in ids)


def test_storm_is_one_cluster_background_apart() -> None:
    rng = random.Random(7)
    storm = _web_api_storm(rng, 3 * 3600)
    clusters = cluster_alerts(_frame(_background() + storm))
    assert list(clusters.columns) == CLUSTER_COLUMNS
    assert len(clusters) == 2
    top = clusters.iloc[0]
    assert top["size"] == len(storm) and len(top["templates"]) == 5
    assert set(top["services"]) == {"web", "api"} and top["severity"] == "critical"
    assert _cluster_of(clusters, "bg20") != top["id"]
    assert clusters.iloc[1]["size"] == 36 and clusters.iloc[1]["status"] == "open"


def test_two_independent_storms_stay_separate() -> None:
    rng = random.Random(11)
    storm = _web_api_storm(rng, 1000)
    billing = _billing_storm(rng, 1030)
    clusters = cluster_alerts(_frame(storm + billing))
    assert len(clusters) == 2
    assert _cluster_of(clusters, "s0") != _cluster_of(clusters, "b0")
    assert sorted(clusters["size"]) == sorted([len(storm), len(billing)])


def test_incremental_equals_batch_and_state_round_trip() -> None:
    rng = random.Random(3)
    frame = _frame(_background() + _web_api_storm(rng, 3 * 3600) + _billing_storm(rng, 3 * 3600))
    batch = cluster_alerts(frame)
    inc = AlertClusterer()
    for start in range(0, len(frame), 41):
        if start == 205:  # persist and resume half-way, as the engine would on restart
            inc = AlertClusterer.from_state(json.loads(json.dumps(inc.to_state())))
        update = inc.add(frame.iloc[start:start + 41])
        assert len(update.assignments) == len(frame.iloc[start:start + 41])
    got = inc.clusters()
    cols = ["id", "template", "templates", "size", "alert_ids", "hosts", "services",
            "first_seen", "last_seen", "severity", "status", "arrival_rate_per_min", "growing"]
    pd.testing.assert_frame_equal(got[cols], batch[cols])


def test_flapping_alert_is_one_flapping_item() -> None:
    rows = [_alert(i * 120, f"f{i}", "db-1", "db", "ReplicaLag", "replica lag high",
                   "warning", fp="lag-db-1", status="firing" if i % 2 == 0 else "resolved")
            for i in range(12)]
    rows += [_alert(5000, "x", "web-9", "web", "Other", "unrelated thing")]
    clusters = cluster_alerts(_frame(rows))
    flapping = clusters[clusters["status"] == "flapping"]
    assert len(flapping) == 1 and flapping.iloc[0]["size"] == 12
    _, summary = noise_report(_frame(rows))
    assert summary.flapping == 1 and summary.clusters == 2


def test_noise_summary_with_annotations() -> None:
    rng = random.Random(5)
    frame = _frame(_background() + _web_api_storm(rng, 3 * 3600))
    clusters, summary = noise_report(frame)
    bg = _cluster_of(clusters, "bg0")
    notes = pd.DataFrame({"ts": [T0, T0 + pd.Timedelta(hours=1), T0],
                          "kind": ["actionable", "noise", "actionable"],
                          "target": [bg, bg, clusters.iloc[0]["id"]]})
    from opscockpit.analysis.noise import summarize_noise

    marked = summarize_noise(clusters, len(frame), notes)
    assert summary.alerts == len(frame) and summary.clusters == 2
    assert summary.reduction_ratio == 1 - 2 / len(frame)
    assert marked.marked_noise_share == 1 / 2  # one of the two surfaced clusters is noise
    assert marked.marked_noise_alert_share == 36 / len(frame)
    assert set(marked.as_dict()) == {"alerts", "clusters", "reduction_ratio", "flapping",
                                     "marked_noise_share", "marked_noise_alert_share"}


def test_arrival_rate_and_growing() -> None:
    rows = [_alert(i * 10, f"g{i}", "web-1", "web", "Err", f"error {i}") for i in range(60)]
    c = AlertClusterer()
    c.add(_frame(rows[:40]))
    first = c.clusters().iloc[0]
    assert first["arrival_rate_per_min"] == 6.0
    assert not first["growing"]  # steady six a minute
    burst = [_alert(400 + i, f"h{i}", "web-1", "web", "Err", f"error {i}") for i in range(60)]
    c.add(_frame(burst))
    after = c.clusters().iloc[0]
    assert after["growing"] and after["arrival_rate_per_min"] > 6.0
