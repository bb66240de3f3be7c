"""The store's schema as forward migrations.

Each migration is a list of statements applied once, in order; the version reached
is kept in ``schema_version``. Never edit a released migration: add the next one.
Every table carries ``origin`` (live, import, replay) so retention can spare
imported and recorded history.
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE metrics (
            ts TIMESTAMPTZ NOT NULL, host VARCHAR NOT NULL, metric VARCHAR NOT NULL,
            value DOUBLE, origin VARCHAR NOT NULL DEFAULT 'live')""",
        """CREATE TABLE processes (
            ts TIMESTAMPTZ NOT NULL, host VARCHAR NOT NULL, pid INTEGER NOT NULL,
            name VARCHAR, "user" VARCHAR, cpu_pct DOUBLE, mem_pct DOUBLE, rss_bytes BIGINT,
            origin VARCHAR NOT NULL DEFAULT 'live')""",
        """CREATE TABLE alerts (
            ts TIMESTAMPTZ NOT NULL, id VARCHAR NOT NULL, source VARCHAR, severity VARCHAR,
            host VARCHAR, service VARCHAR, title VARCHAR, message VARCHAR, labels VARCHAR,
            fingerprint VARCHAR, status VARCHAR, ends_at TIMESTAMPTZ,
            origin VARCHAR NOT NULL DEFAULT 'live')""",
        """CREATE TABLE pipeline_runs (
            ts TIMESTAMPTZ NOT NULL, provider VARCHAR NOT NULL, repo VARCHAR NOT NULL,
            workflow VARCHAR, run_id VARCHAR NOT NULL, branch VARCHAR, sha VARCHAR,
            status VARCHAR, conclusion VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ,
            url VARCHAR, actor VARCHAR, event VARCHAR, attempt INTEGER,
            origin VARCHAR NOT NULL DEFAULT 'live')""",
        """CREATE TABLE pipeline_jobs (
            ts TIMESTAMPTZ NOT NULL, provider VARCHAR NOT NULL, repo VARCHAR NOT NULL,
            run_id VARCHAR NOT NULL, job_id VARCHAR NOT NULL, name VARCHAR, status VARCHAR,
            conclusion VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, url VARCHAR,
            failed_step VARCHAR, attempt INTEGER, origin VARCHAR NOT NULL DEFAULT 'live')""",
        """CREATE TABLE changes (
            ts TIMESTAMPTZ NOT NULL, id VARCHAR NOT NULL, kind VARCHAR NOT NULL,
            service VARCHAR, version VARCHAR, sha VARCHAR, author VARCHAR, url VARCHAR,
            source VARCHAR, origin VARCHAR NOT NULL DEFAULT 'live')""",
        """CREATE TABLE model_observations (
            ts TIMESTAMPTZ NOT NULL, model VARCHAR NOT NULL, version VARCHAR NOT NULL,
            record_id VARCHAR, features VARCHAR, prediction VARCHAR, score DOUBLE,
            label VARCHAR, origin VARCHAR NOT NULL DEFAULT 'live')""",
        """CREATE TABLE annotations (
            ts TIMESTAMPTZ NOT NULL, id VARCHAR NOT NULL, kind VARCHAR NOT NULL,
            target VARCHAR, text VARCHAR, author VARCHAR,
            origin VARCHAR NOT NULL DEFAULT 'live')""",
        "CREATE INDEX metrics_series_ts ON metrics (host, metric, ts)",
        "CREATE INDEX alerts_ts ON alerts (ts)",
        """CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)""",
    ),
    (
        "ALTER TABLE pipeline_runs ADD COLUMN committed_at TIMESTAMPTZ",
        "ALTER TABLE changes ADD COLUMN status VARCHAR",
        """CREATE TABLE anomalies (
            ts TIMESTAMPTZ NOT NULL, series VARCHAR NOT NULL, host VARCHAR, metric VARCHAR,
            start TIMESTAMPTZ NOT NULL, "end" TIMESTAMPTZ, peak_score DOUBLE,
            peak_ts TIMESTAMPTZ, origin VARCHAR NOT NULL DEFAULT 'live')""",
        """CREATE TABLE noise_stats (
            ts TIMESTAMPTZ NOT NULL, alerts BIGINT, clusters BIGINT, reduction_ratio DOUBLE,
            flapping BIGINT, marked_noise_share DOUBLE, origin VARCHAR NOT NULL DEFAULT 'live')""",
        """CREATE TABLE analyzer_state (
            name VARCHAR PRIMARY KEY, saved_at TIMESTAMPTZ, state VARCHAR)""",
    ),
    (
        # Every log line with its mined template; only alert-level lines go to ``alerts``.
        """CREATE TABLE events (
            ts TIMESTAMPTZ NOT NULL, id VARCHAR NOT NULL, source VARCHAR, severity VARCHAR,
            host VARCHAR, service VARCHAR, message VARCHAR, template_id VARCHAR,
            template VARCHAR, origin VARCHAR NOT NULL DEFAULT 'live')""",
        "CREATE INDEX events_ts ON events (ts)",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)

# Column order of each record table (without ``origin``), as the records declare them.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "metrics": ("ts", "host", "metric", "value"),
    "processes": ("ts", "host", "pid", "name", "user", "cpu_pct", "mem_pct", "rss_bytes"),
    "alerts": (
        "ts", "id", "source", "severity", "host", "service", "title", "message", "labels",
        "fingerprint", "status", "ends_at",
    ),
    "pipeline_runs": (
        "ts", "provider", "repo", "workflow", "run_id", "branch", "sha", "status", "conclusion",
        "started_at", "finished_at", "url", "actor", "event", "attempt", "committed_at",
    ),
    "pipeline_jobs": (
        "ts", "provider", "repo", "run_id", "job_id", "name", "status", "conclusion",
        "started_at", "finished_at", "url", "failed_step", "attempt",
    ),
    "changes": (
        "ts", "id", "kind", "service", "version", "sha", "author", "url", "source", "status",
    ),
    "model_observations": (
        "ts", "model", "version", "record_id", "features", "prediction", "score", "label",
    ),
    "annotations": ("ts", "id", "kind", "target", "text", "author"),
    "anomalies": ("ts", "series", "host", "metric", "start", "end", "peak_score", "peak_ts"),
    "events": (
        "ts", "id", "source", "severity", "host", "service", "message", "template_id",
        "template",
    ),
    "noise_stats": (
        "ts", "alerts", "clusters", "reduction_ratio", "flapping", "marked_noise_share",
    ),
}

# Batch attribute -> table.
BATCH_TABLES: dict[str, str] = {
    "metrics": "metrics",
    "processes": "processes",
    "alerts": "alerts",
    "runs": "pipeline_runs",
    "jobs": "pipeline_jobs",
    "changes": "changes",
    "observations": "model_observations",
    "annotations": "annotations",
    "anomalies": "anomalies",
    "noise_stats": "noise_stats",
}
