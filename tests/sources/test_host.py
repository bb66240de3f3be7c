from __future__ import annotations

import os
import time

import pytest

from opscockpit.sources.counter_rates import CounterRates
from opscockpit.sources.host import HostSource


def test_rates_are_deltas_over_elapsed_time() -> None:
    rates = CounterRates()
    assert rates.update({"rx": 1000.0, "tx": 10.0}, t=10.0) == {}
    assert rates.update({"rx": 3000.0, "tx": 10.0}, t=12.0) == {"rx": 1000.0, "tx": 0.0}
    assert rates.update({"rx": 3500.0, "tx": 60.0}, t=12.5) == {"rx": 1000.0, "tx": 100.0}


def test_counter_reset_gives_no_spike() -> None:
    rates = CounterRates()
    rates.update({"rx": 5_000_000.0}, t=0.0)
    assert rates.update({"rx": 100.0}, t=1.0) == {}  # NIC reset: skip, don't go negative
    assert rates.update({"rx": 600.0}, t=2.0) == {"rx": 500.0}


def test_same_instant_gives_no_rate() -> None:
    rates = CounterRates()
    rates.update({"rx": 1.0}, t=1.0)
    assert rates.update({"rx": 2.0}, t=1.0) == {}


def test_host_poll_reports_this_machine(tmp_path) -> None:
    source = HostSource("host", {"top_processes": 5})
    first = source.poll(None)
    names = {m.metric for m in first.metrics}
    assert {"cpu_pct", "mem_pct", "mem_total_bytes", "swap_pct"} <= names
    assert "net_rx_bps" not in names  # a rate needs two polls
    # Make some disk I/O happen between polls, then the rates must see it.
    payload = os.urandom(4 << 20)
    (tmp_path / "blob").write_bytes(payload)
    os.sync()
    time.sleep(0.3)
    second = source.poll(None)
    values = {m.metric: m.value for m in second.metrics}
    for rate in ("net_rx_bps", "net_tx_bps", "disk_read_bps", "disk_write_bps"):
        assert values[rate] >= 0.0
    assert 0.0 <= values["cpu_pct"] <= 100.0
    assert 0.0 < values["mem_pct"] < 100.0
    assert any(name.startswith("disk_pct{mount=") for name in values)
    pids = {p.pid for p in second.processes}
    assert os.getpid() in pids or len(second.processes) >= 5
    assert len(second.processes) <= 10  # top 5 by CPU plus top 5 by memory
    assert len({m.host for m in second.metrics}) == 1


def test_unknown_option_is_refused() -> None:
    with pytest.raises(ValueError, match="no option 'colour'"):
        HostSource("host", {"colour": "red"})
