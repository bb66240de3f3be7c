"""Log-line headers: split a raw log line into its header fields and its message body.

The LogHub data sets each have a known header layout (LogPAI's ``log_format`` strings,
rewritten here as a table of our own). Unknown logs go through a generic splitter that
peels off the usual leading timestamp, host and ``process[pid]:`` prefix, so the
template miner sees the message body rather than a new timestamp on every line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

# ``<Field>`` is a header field (non-greedy), ``<Content>`` the rest of the line; one or
# more spaces in the format match any run of whitespace.
LOGHUB_FORMATS: dict[str, str] = {
    "HDFS": "<Date> <Time> <Pid> <Level> <Component>: <Content>",
    "Hadoop": r"<Date> <Time> <Level> \[<Process>\] <Component>: <Content>",
    "Spark": "<Date> <Time> <Level> <Component>: <Content>",
    "Zookeeper": r"<Date> <Time> - <Level>  \[<Node>:<Component>@<Id>\] - <Content>",
    "BGL": "<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> "
           "<Content>",
    "HPC": "<LogId> <Node> <Component> <State> <Time> <Flag> <Content>",
    "Thunderbird": r"<Label> <Timestamp> <Date> <User> <Month> <Day> <Time> <Location> "
                   r"<Component>(\[<PID>\])?: <Content>",
    "Windows": "<Date> <Time>, <Level>                  <Component>    <Content>",
    "Linux": r"<Month> <Date> <Time> <Level> <Component>(\[<PID>\])?: <Content>",
    "Android": "<Date> <Time>  <Pid>  <Tid> <Level> <Component>: <Content>",
    "HealthApp": r"<Time>\|<Component>\|<Pid>\|<Content>",
    "Apache": r"\[<Time>\] \[<Level>\] <Content>",
    "Proxifier": r"\[<Time>\] <Program> - <Content>",
    "OpenSSH": r"<Date> <Day> <Time> <Component> sshd\[<Pid>\]: <Content>",
    "OpenStack": r"<Logrecord> <Date> <Time> <Pid> <Level> <Component> \[<ADDR>\] <Content>",
    "Mac": r"<Month>  <Date> <Time> <User> <Component>\[<PID>\]( \(<Address>\))?: <Content>",
}

_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
# The generic fallback: optional timestamp, optional host, optional ``proc[pid]:``.
_GENERIC = re.compile(
    r"^\s*(?:"
    rf"(?P<syslog>(?:{_MONTHS})\s+\d{{1,2}}\s+\d{{2}}:\d{{2}}:\d{{2}}(?:\.\d+)?)"
    r"|(?P<iso>\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\]?)"
    r"|(?P<bracket>\[[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? \d{4}\])"
    r"|(?P<compact>\d{6} \d{6})"
    r"|(?P<epoch>\d{10}(?:\.\d+)?)"
    r")?\s*"
    r"(?:(?P<host>[\w.-]+)\s+(?=[\w./-]+(?:\[\d+\])?:\s))?"
    r"(?:(?P<process>[\w./()-]+?)(?:\[(?P<pid>\d+)\])?:\s+)?"
    r"(?P<Content>.*)$",
    re.DOTALL,
)


def format_regex(log_format: str) -> tuple[re.Pattern[str], list[str]]:
    """Compile a LogHub-style ``log_format`` into a regex and its field names."""
    names: list[str] = []
    out: list[str] = []
    for piece in re.split(r"(<[^<>]+>)", log_format):
        if piece.startswith("<") and piece.endswith(">"):
            name = piece[1:-1]
            names.append(name)
            out.append(f"(?P<{name}>.*)" if name == "Content" else f"(?P<{name}>.*?)")
        else:
            out.append(re.sub(r" +", r"\\s+", piece))
    return re.compile("^" + "".join(out) + "$", re.DOTALL), names


@dataclass(slots=True)
class SplitResult:
    frame: pd.DataFrame  # LineId, Content and the header fields
    unmatched: list[int] = field(default_factory=list)  # LineIds that fell back to generic


def split_generic(line: str) -> dict[str, str]:
    """Header fields of an unknown log line; ``Content`` is always present."""
    m = _GENERIC.match(line)
    if m is None:  # the pattern is all-optional, but keep the contract explicit
        return {"Content": line.strip()}
    fields = {k: v for k, v in m.groupdict().items() if v}
    fields["Content"] = (m.group("Content") or "").strip()
    return fields


def split_headers(lines: Iterable[str], dataset: str | None = None) -> SplitResult:
    """Split raw lines into ``LineId, Content`` (+ header columns).

    With ``dataset`` naming a LogHub set its header layout is used; a line that does not
    fit it, and every line when ``dataset`` is ``None``, goes through the generic splitter.
    """
    regex: re.Pattern[str] | None = None
    names: Sequence[str] = ()
    if dataset is not None:
        if dataset not in LOGHUB_FORMATS:
            raise ValueError(f"unknown LogHub dataset {dataset!r}; known: {sorted(LOGHUB_FORMATS)}")
        regex, names = format_regex(LOGHUB_FORMATS[dataset])
    rows: list[dict[str, str | int]] = []
    unmatched: list[int] = []
    line_id = 0
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        line_id += 1
        m = regex.match(line) if regex is not None else None
        if m is not None:
            row: dict[str, str | int] = {n: (m.group(n) or "") for n in names}
            row["Content"] = str(row["Content"]).strip()
        else:
            if regex is not None:
                unmatched.append(line_id)
            row = dict(split_generic(line))
        row["LineId"] = line_id
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame({"LineId": pd.Series(dtype="int64"), "Content": pd.Series(dtype=str)})
    cols = ["LineId", "Content"] + [c for c in frame.columns if c not in ("LineId", "Content")]
    return SplitResult(frame[cols], unmatched)
