"""Root-cause ranking on constructed incidents whose cause is known."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd
import pytest

from opscockpit.analysis.incidents import Incident
from opscockpit.analysis.root_cause import (
    Candidate,
    accuracy,
    latest_verdicts,
    rank_incidents,
)
from tests.analysis.test_incidents import anomaly, at, incident_of, scene, storm

API = ["api-1", "api-2"]


def changes(*rows: tuple[str, str, float] | tuple[str, str, float, str]) -> pd.DataFrame:
    """``(id, service, minute[, status])`` deploys."""
    return pd.DataFrame(
        [{"ts": at(r[2]), "id": r[0], "kind": "deploy", "service": r[1], "version": "v1",
          "status": r[3] if len(r) > 3 else "success", "url": f"https://ci/{r[0]}"}
         for r in rows])


def rank(anomalies: Iterable[dict[str, object]], alerts: Iterable[dict[str, object]],
         change_rows: pd.DataFrame | None,
         dependencies: Mapping[str, Iterable[str]] | None = None,
         ) -> tuple[list[Incident], dict[str, list[Candidate]]]:
    incidents, hosts, deps = scene(anomalies, alerts, dependencies, change_rows)
    monitored = set(hosts.values())
    return incidents, rank_incidents(incidents, change_rows, deps, hosts, monitored)


def api_incident(start: float = 0) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    return ([anomaly("api-1/latency_ms", start + 3), anomaly("api-2/latency_ms", start + 4),
             anomaly("api-1/error_rate_pct", start + 4)], storm("api", API, start + 4))


def test_deploy_before_anomaly_and_storm_on_the_same_service_ranks_first() -> None:
    an, al = api_incident()
    incidents, ranked = rank(an, al, changes(("d-api", "api", 0), ("d-web", "web", -1)))
    top = ranked[incidents[0].id][0]
    assert (top.rank, top.kind, top.ref) == (1, "deploy", "d-api")
    assert top.evidence[0] == ("deploy d-api of api finished 3 min before the first anomaly "
                               "on api-1/latency_ms (10:03).")
    assert "2 of 2 affected hosts run api." in top.evidence
    assert top.url == "https://ci/d-api" and 0 < top.score <= 1
    assert {"proximity", "precedence", "relation", "rarity", "status"} <= set(top.factors)


def test_unrelated_deploy_is_not_the_cause() -> None:
    an, al = api_incident()
    incidents, ranked = rank(an, al, changes(("d-search", "search", 1), ("d-api", "api", -20)))
    got = ranked[incidents[0].id]
    assert got[0].ref == "d-api"
    decoy = next(c for c in got if c.ref == "d-search")
    assert decoy.factors["relation"] == pytest.approx(0.05)
    assert any("no known dependency links it" in e for e in decoy.evidence)


def test_only_an_unrelated_deploy_means_no_candidate_change() -> None:
    an, al = api_incident()
    incidents, ranked = rank(an, al, changes(("d-search", "search", 1)))
    top = ranked[incidents[0].id][0]
    assert top.kind == "symptom" and top.ref == "api-1/latency_ms"
    assert top.summary.startswith("no candidate change")


def test_a_deploy_after_the_symptoms_began_is_no_candidate() -> None:
    an, al = api_incident()
    incidents, ranked = rank(an, al, changes(("d-late", "api", 10), ("d-api", "api", -30)))
    got = ranked[incidents[0].id]
    assert got[0].ref == "d-api"
    assert "d-late" not in {c.ref for c in got}
    assert any("changed again" in e and "d-late" in e for e in got[0].evidence)
    assert got[0].factors["status"] == 1.0  # replaced while the incident was open


def test_two_independent_incidents_get_separate_causes() -> None:
    an, al = api_incident()
    an += [anomaly("ledger-1/latency_ms", 2), anomaly("ledger-2/error_rate_pct", 3)]
    al += storm("ledger", ["ledger-1", "ledger-2"], 3, title="LedgerLag")
    incidents, ranked = rank(an, al, changes(("d-api", "api", 0), ("d-ledger", "ledger", -2)))
    assert len([x for x in incidents if x.core]) == 2
    assert ranked[incident_of(incidents, "api-1/latency_ms").id][0].ref == "d-api"
    assert ranked[incident_of(incidents, "ledger-1/latency_ms").id][0].ref == "d-ledger"


def test_no_change_at_all_leads_with_the_earliest_symptom() -> None:
    an, al = api_incident()
    incidents, ranked = rank(an, al, None)
    top = ranked[incidents[0].id][0]
    assert (top.rank, top.kind, top.ref) == (1, "symptom", "api-1/latency_ms")
    assert top.summary == ("no candidate change; the incident starts with anomaly on "
                           "api-1/latency_ms at 10:03")
    assert top.evidence[0].startswith("no deploy, config or model change to api")
    assert all(c.kind in {"symptom", "anomaly", "cluster"} for c in ranked[incidents[0].id])


def test_a_weak_early_anomaly_does_not_promote_a_decoy() -> None:
    # search is deployed at -40; the detector opens a slow episode on api-2 at -39 that only
    # peaks with the real incident; the bad api deploy lands at 0, symptoms from 3 on.
    an, al = api_incident()
    an.append(anomaly("api-2/cpu_pct", -39, 60, peak=1.0, peak_at=5))
    an.append(anomaly("api-1/mem_pct", -38, -30, peak=0.5))  # a short weak blip as well
    incidents, ranked = rank(an, al, changes(("d-search", "search", -40), ("d-api", "api", 0)))
    main = incident_of(incidents, "api-1/latency_ms")
    got = ranked[main.id]
    assert main.onset == at(3)
    assert got[0].ref == "d-api"
    assert got[0].factors["precedence"] > 0.8  # the blips weigh little
    assert any("began before it" in e for e in got[0].evidence)
    assert ranked[incident_of(incidents, "api-1/mem_pct").id][0].ref != "d-search"


def test_the_closer_of_two_deploys_of_a_service_wins() -> None:
    an, al = api_incident()
    incidents, ranked = rank(an, al, changes(("d-old", "api", -180), ("d-new", "api", -2)))
    assert [c.ref for c in ranked[incidents[0].id][:1]] == ["d-new"]


def test_the_service_whose_dependants_suffer_wins_over_a_dependant() -> None:
    an, al = api_incident()
    an += [anomaly("web-1/error_rate_pct", 5), anomaly("web-2/error_rate_pct", 5)]
    al += storm("web", ["web-1", "web-2"], 5, title="UpstreamErrors")
    deps = {"web": ["api"]}
    incidents, ranked = rank(an, al, changes(("d-web", "web", 1), ("d-api", "api", -1)), deps)
    got = ranked[incidents[0].id]
    assert got[0].ref == "d-api"
    assert "2 of 4 affected hosts run api; 2 more run web, which depends on it." in got[0].evidence


def test_a_healthy_monitored_upstream_deploy_weighs_less() -> None:
    an, al = api_incident()
    an.append(anomaly("db-1/cpu_pct", -200, -190, peak=0.2))  # db is monitored, and was fine
    deps = {"api": ["db"]}
    incidents, ranked = rank(an, al, changes(("d-db", "db", 1), ("d-api", "api", -3)), deps)
    got = ranked[incident_of(incidents, "api-1/latency_ms").id]
    assert got[0].ref == "d-api"
    db = next(c for c in got if c.ref == "d-db")
    assert any("db itself shows no symptom" in e for e in db.evidence)


def test_upstream_anomaly_leads_when_nothing_changed() -> None:
    an = [anomaly("db-1/latency_ms", 0), anomaly("api-1/latency_ms", 2),
          anomaly("api-2/latency_ms", 2), anomaly("web-1/error_rate_pct", 3)]
    al = storm("api", API, 2) + storm("web", ["web-1"], 3, title="UpstreamErrors")
    incidents, ranked = rank(an, al, None, {"web": ["api"], "api": ["db"]})
    got = ranked[incidents[0].id]
    assert (got[0].kind, got[0].ref) == ("symptom", "db-1/latency_ms")
    assert "api" in got[1].service and "db" not in got[1].service


def test_failed_deploy_weighs_more() -> None:
    an, al = api_incident()
    _, ok = rank(an, al, changes(("d-api", "api", -2)))
    _, failed = rank(an, al, changes(("d-api", "api", -2, "failure")))
    a, b = next(iter(ok.values()))[0], next(iter(failed.values()))[0]
    assert b.score > a.score and "its status is failure." in b.evidence


def test_a_deploy_in_a_busy_stream_weighs_less() -> None:
    an, al = api_incident()
    busy = changes(*[(f"d{i}", "api", -i * 30) for i in range(48)])  # every half hour
    quiet = changes(("d0", "api", 0), ("d1", "api", -1440))
    _, crowded = rank(an, al, busy)
    _, calm = rank(an, al, quiet)
    top_busy, top_calm = next(iter(crowded.values()))[0], next(iter(calm.values()))[0]
    assert top_busy.ref == top_calm.ref == "d0"
    assert top_busy.factors["rarity"] < 0.9 < 0.99 < top_calm.factors["rarity"]
    assert any("47 other time(s)" in e and "28% likely" in e for e in top_busy.evidence)


def test_feedback_and_accuracy() -> None:
    an, al = api_incident()
    _, ranked = rank(an, al, changes(("d-api", "api", 0)))
    notes = pd.DataFrame([
        {"ts": at(60), "kind": "reject", "target": "d-api"},
        {"ts": at(70), "kind": "confirm", "target": "d-api"},  # the latest verdict wins
    ])
    verdicts = latest_verdicts(notes)
    assert verdicts == {"d-api": "confirm"}
    score = accuracy(ranked, verdicts)
    assert (score.judged, score.top1_confirmed, score.share) == (1, 1, 1.0)
    score = accuracy(ranked, {"d-api": "reject"})
    assert (score.judged, score.top1_confirmed, score.share) == (1, 0, 0.0)
    assert accuracy(ranked, {}).share is None
    lower = ranked[next(iter(ranked))][1].ref
    assert accuracy(ranked, {lower: "reject"}).judged == 0  # says nothing about the top one
    score = accuracy(ranked, {lower: "confirm"})  # the operator found it further down
    assert (score.judged, score.top1_confirmed) == (1, 0)


def test_benchmark_runs_and_finds_most_causes() -> None:
    from benchmarks import root_cause as bench

    result = bench.run(4, seed=0)
    for mode in ("configured", "inferred"):
        assert result[mode]["incidents"] >= 4
        assert result[mode]["top3"] >= 0.5
    assert bench.main(["--n", "1"]) == 0
