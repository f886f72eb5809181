"""The benchmark harness runs and writes valid reports (figures are never asserted).

What is checked: the physical limits are computed from the spec's frame sizes; a recorded
session is read back (requests named, counts consistent with what crossed the air); each
stand-alone section produces its fields; ``scripts/bench``'s entry point writes a JSON report
with its context, and its Home Assistant part runs in a child pytest and is merged.
"""

from __future__ import annotations

import json
from pathlib import Path

from bumble.hci import HCI_Disconnection_Complete_Event, HCI_Packet
import pytest

from bench.benchmarks import cli, custom_data, limits, outcome, provisioning, table
from bench.benchmarks.quiet import packet_strings_off
from bench.benchmarks.recorder import Att, parse_att
from bench.benchmarks.timeline import blufi_label

LIBRARY_CASES = tuple(case for case in provisioning.CASES if case.client == "library")


def test_blufi_minimum_follows_the_frame_sizes() -> None:
    v1 = limits.blufi_minimum(secured="V1", mtu=517, ssid=7, password=21)
    assert v1.protocol == (
        "NEG length",
        "NEG data",
        "NEG data",
        "SET_SEC_MODE",
        "SET_OPMODE",
        "STA_SSID",
        "STA_PASSWD",
        "CONN_TO_AP",
    )
    v2 = limits.blufi_minimum(secured="V2", mtu=517, ssid=7, password=21)
    assert v2.protocol.count("NEG data") == 4  # 776 bytes: 253 + 253 + 253 + 17
    plain = limits.blufi_minimum(secured=None, mtu=517, ssid=7, password=21)
    assert plain.protocol == ("SET_OPMODE", "STA_SSID", "STA_PASSWD", "CONN_TO_AP")
    # At MTU 23 a frame carries 14 data bytes once secured: the password needs 2 fragments.
    assert (
        limits.blufi_minimum(secured="V1", mtu=23, ssid=7, password=21).protocol.count("STA_PASSWD")
        == 2
    )
    assert limits.custom_data_frames(65535, 517, checksum=True) == 260
    assert limits.frame_data_limit(185, checksum=True) == 176
    with pytest.raises(ValueError, match="no room"):
        limits.blufi_frames(10, 10, checksum=True)


def test_limits_in_connection_events() -> None:
    minimum = limits.bluenet_minimum()
    assert minimum.protocol_limit(0.03) == pytest.approx(0.09)  # 2 exchanges: 3 intervals
    # MTU + 2 CCCD + 2 writes = 5 exchanges; LL_TERMINATE_IND at event 11.
    assert minimum.session_limit(0.03) == pytest.approx(0.33)
    assert minimum.session_limit(0.03, discovery=2) == pytest.approx(0.45)


def test_att_and_blufi_headers_are_read() -> None:
    write = bytes([7, 0, 4, 0, Att.WRITE_REQ, 0x10, 0x00, 0x0C, 0x00, 0x05, 0x00])
    assert parse_att(write) == (Att.WRITE_REQ, 0x10, bytes([0x0C, 0x00, 0x05, 0x00]))
    assert parse_att(bytes([1, 0, 5, 0, 0x02])) == (None, None, b"")  # signalling channel
    assert blufi_label(bytes([0x0C, 0x00, 0x05, 0x00])) == "CTRL CONN_TO_AP"
    assert blufi_label(bytes([0x01, 0x10, 0x01, 0xFF])) == "DATA NEG (frag)"
    assert blufi_label(b"\x01") == "BluFi ?"


async def test_p1_reads_a_recorded_provisioning() -> None:
    rows = await provisioning.run("ideal", 0.0, 1, LIBRARY_CASES)
    assert [row["case"] for row in rows] == [case.name for case in LIBRARY_CASES]
    for row in rows:
        assert row["outcomes"] == ["connected"], row
        assert row["mtu_exchanges"] == 1
        assert row["discovery_requests"] == row["forced_discovery"] > 0  # ideal: uncached
        assert row["att_writes"] >= row["minimum_exchanges"] + row["cccd_writes"]
        assert row["session_ms"] is not None
        assert row["protocol_ms"] is not None
    blufi_v1 = rows[0]
    assert blufi_v1["security"] == "V1"
    assert "CTRL CONN_TO_AP" in blufi_v1["requests"]
    assert "WRITE_REQ CCCD FF02" in blufi_v1["requests"]
    bluenet = rows[2]
    assert {"WRITE_REQ SSID", "WRITE_REQ Credentials"} <= set(bluenet["requests"])
    assert table.p1(rows).count("\n") == len(rows) + 1


async def test_p3_counts_custom_data_frames() -> None:
    row = await custom_data.transfer("ideal", 0.0, 185, 2000)
    assert row["mtu"] == 185
    assert (
        row["frames"]
        >= row["frames_minimum"]
        == limits.custom_data_frames(2000, 185, checksum=row["checksum"])
    )
    assert row["cpu_per_frame_ms"] is not None
    assert row["bound_ms"] == 0  # no link latency: no bound


async def test_p6_sees_the_device_fail() -> None:
    results = await outcome.run("ideal", 0.0, 1)
    assert set(results) == {"blufi", "bluenet"}
    for result in results.values():
        (run,) = result["runs"]
        assert run["failure_to_outcome_ms"] is not None, run
    assert results["blufi"]["outcomes"] == ["wrong_password"]


def test_command_writes_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "report.json"
    args = ["--only", "P2,P5", "--profile", "ideal", "--interval-ms", "0", "--runs", "1"]
    assert cli.main([*args, "--json", str(target)]) == 0
    report = json.loads(target.read_text())
    context = report["context"]
    assert context["profile"] == "ideal"
    assert context["interval_ms"] == 0
    assert context["leg"] in ("floor", "current")
    assert {"commit", "load_average_start", "load_average_end", "versions"} <= set(context)
    sections = report["results"]
    assert set(sections["P2@ideal"]) == {"V2", "V1", "V2 client DH alone"}
    rest = sections["P5@ideal"]  # from the child pytest (Home Assistant)
    assert rest["refreshes"] > 0, rest
    assert set(rest["slot_s_per_device"]) == set(rest["holds_per_device"])
    out = capsys.readouterr().out
    assert "P2 event-loop stall" in out
    assert "P5 slot time at rest" in out
    assert f"written: {target}" in out


def test_unknown_section_is_refused() -> None:
    with pytest.raises(SystemExit):
        cli.main(["--only", "P9"])


def test_profiles_are_chosen_by_name() -> None:
    options = cli._parse(["--profile", "bluez-local,esphome-proxy", "--quick"])
    assert options.profiles == ["bluez-local", "esphome-proxy"]
    assert options.sections == list(cli.QUICK)
    assert cli._parse(["--profile", "all"]).profiles == ["ideal", "bluez-local", "esphome-proxy"]
    with pytest.raises(SystemExit):
        cli._parse(["--profile", "bluez-local,nowhere"])


def test_packet_strings_off_only_changes_how_packets_print() -> None:
    event = HCI_Disconnection_Complete_Event(status=0, connection_handle=1, reason=0x13)
    printed = str(event)
    with packet_strings_off() as applied:
        assert applied
        assert bytes(HCI_Packet.from_bytes(bytes(event))) == bytes(event)
        assert "connection_handle" not in str(event)
    assert str(event) == printed
    assert "connection_handle" in printed
