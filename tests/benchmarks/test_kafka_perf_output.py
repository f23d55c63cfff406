"""The Kafka perf tools' summaries are read into records per second."""

from __future__ import annotations

import pytest

from benchmarks.compare.kafka_perf import parse_consumer, parse_producer

PRODUCER_OUT = """\
12001 records sent, 2400.2 records/sec (0.45 MB/sec), 80.1 ms avg latency, 200.0 ms max latency.
50000 records sent, 55126.8 records/sec (15.77 MB/sec), 115.79 ms avg latency, 270.00 ms max latency, \
141 ms 50th, 172 ms 95th, 177 ms 99th, 185 ms 99.9th.
"""
CONSUMER_OUT = """\
WARNING: some warning the tool printed first
start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, \
fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
2026-11-28 15:12:05:023, 2026-11-28 15:12:05:664, 14.3051, 22.3169, 50000, 78003.1201, 338, 303, \
47.2116, 165016.5017
"""


def test_the_producer_rate_is_the_summary_lines_records_per_second() -> None:
    assert parse_producer(PRODUCER_OUT) == 55126.8


def test_the_consumer_rate_is_fetch_nmsg_sec_which_leaves_out_the_group_join() -> None:
    assert parse_consumer(CONSUMER_OUT) == pytest.approx(165016.5017)


def test_output_without_figures_is_an_error_that_shows_the_output() -> None:
    with pytest.raises(RuntimeError, match="no rate"):
        parse_producer("Exception in thread main")
    with pytest.raises(RuntimeError, match="no figures"):
        parse_consumer("Exception in thread main")
