"""``opscockpit report SRC``: a headless report as Markdown, HTML or JSON."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from opscockpit.commands.common import CliError, progress

FORMATS = ("md", "html", "json")


def report(
    source: Annotated[Path, typer.Argument(help="A store or a recording.")],
    format: Annotated[
        str, typer.Option("--format", "-f", help="md, html, json, or several: md,html,json.")
    ] = "md",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="File (or stem for several formats).")
    ] = None,
    start: Annotated[str | None, typer.Option("--from", help="Window start (ISO 8601).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Window end (ISO 8601).")] = None,
) -> None:
    """Write a report of a store or recording; without --from/--to it covers everything."""
    formats = [f.strip().lower() for f in format.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise CliError(f"--format {unknown[0] if unknown else format!r} is not one of "
                       f"{', '.join(FORMATS)}", code=2)
    if len(formats) > 1 and out is None:
        raise CliError("several formats need --out (a stem: report -> report.md, "
                       "report.html ...)", code=2)
    if not source.exists():
        raise CliError(f"{source} does not exist", code=2)
    window = (_time(start, "--from"), _time(end, "--to"))
    if window[0] and window[1] and window[0] >= window[1]:
        raise CliError("--from should be before --to", code=2)
    texts = build_texts(source, formats, window)
    if out is None:
        typer.echo(texts[formats[0]], nl=False)
        return
    for fmt, text in texts.items():
        target = out if len(formats) == 1 else out.with_suffix(f".{fmt}")
        try:
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot write {target}: {exc.strerror or exc}") from None
        typer.echo(f"wrote {target}", err=True)


def build_texts(source: Path, formats: list[str],
                window: tuple[datetime | None, datetime | None]) -> dict[str, str]:
    from opscockpit.report.builder import build_report
    from opscockpit.report.source import open_report_source
    from opscockpit.store import StoreError

    steps = 2 + len(formats) + ("html" in formats)
    with progress("report", steps) as advance:
        try:
            store = open_report_source(source)
        except StoreError as exc:
            raise CliError(str(exc)) from None
        advance()
        try:
            structure = build_report(store, *window)
            advance()
            texts: dict[str, str] = {}
            for fmt in formats:
                texts[fmt] = render(fmt, structure, store, advance)
                advance()
        finally:
            store.close()
    return texts


def render(fmt: str, structure: dict, store, advance) -> str:  # type: ignore[no-untyped-def, type-arg]
    if fmt == "json":
        from opscockpit.report.render_json import render_json

        return render_json(structure)
    if fmt == "md":
        from opscockpit.report.render_md import render_markdown

        return render_markdown(structure)
    from opscockpit.report.charts import build_charts
    from opscockpit.report.render_html import render_html

    charts = build_charts(store, structure)
    advance()
    return render_html(structure, charts)


def _time(text: str | None, option: str) -> datetime | None:
    if text is None:
        return None
    from opscockpit.records import utc

    try:
        return utc(datetime.fromisoformat(text))
    except ValueError:
        raise CliError(f"{option} {text!r} is not an ISO 8601 time", code=2) from None
