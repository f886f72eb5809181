"""The console command's rarer paths: nothing found, usage conflicts, fire-and-forget, Ctrl-C."""

from __future__ import annotations

from collections.abc import Sequence
import runpy

import pytest

from custom_components.ble_provisioning.protocol.cli import app

from .conftest import run_command


async def test_scan_finding_nothing_fails(bench_env: pytest.MonkeyPatch) -> None:
    bench_env.setenv("BLE_BENCH_DEVICES", "bluenet:1")
    code, out, err = await run_command("scan", "--protocol", "blufi", "--scan-timeout", "0.3")
    assert code == app.EXIT_FAILED
    assert "no BluFi or Bluenet device found" in err
    assert "B0:0B:1E" not in out  # the Bluenet device is not listed under --protocol blufi


async def test_no_matching_device_is_a_failure_not_a_usage_error(
    bench_env: pytest.MonkeyPatch,
) -> None:
    """A name pattern nobody matches: the command fails (1) with the error's key."""
    code, _, err = await run_command(
        "provision", "--name", "NOBODY_*", "--scan-timeout", "0.3", "--ssid", "HomeNet",
        "--password-env", "WIFI_PASSWORD",
    )  # fmt: skip
    assert code == app.EXIT_FAILED
    assert "device_not_found: no matching device found" in err


async def test_ssid_and_networks_exclude_each_other(bench_env: pytest.MonkeyPatch) -> None:
    code, _, err = await run_command(
        "provision", "--all", "--ssid", "HomeNet", "--networks", "networks.csv"
    )
    assert code == app.EXIT_USAGE
    assert "--ssid and --networks exclude each other" in err


async def test_status_reports_an_address_nobody_saw(bench_env: pytest.MonkeyPatch) -> None:
    code, out, _ = await run_command(
        "status", "--address", "24:0A:C4:10:00:01", "--address", "24:0a:c4:99:99:99",
        "--scan-timeout", "1",
    )  # fmt: skip
    assert code == app.EXIT_FAILED  # one device missing
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "device_not_found" in lines["24:0A:C4:99:99:99"]
    assert "disconnected" in lines["24:0A:C4:10:00:01"]


async def test_custom_data_without_waiting_is_sent(bench_env: pytest.MonkeyPatch) -> None:
    code, out, err = await run_command("custom-data", "--address", "24:0A:C4:10:00:01", "hello")
    assert code == app.EXIT_OK, err
    (row,) = out.splitlines()[1:]
    assert row.split()[0] == "24:0A:C4:10:00:01"
    assert "sent" in row.split()


def test_main_exits_with_the_command_status(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Sequence[str] | None] = []

    async def fake_run_cli(argv: Sequence[str] | None = None) -> int:
        seen.append(argv)
        return app.EXIT_FAILED

    monkeypatch.setattr(app, "run_cli", fake_run_cli)
    with pytest.raises(SystemExit) as exited:
        app.main()
    assert exited.value.code == app.EXIT_FAILED
    assert seen == [None]  # the process's own arguments


def test_main_on_ctrl_c(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def interrupted(argv: Sequence[str] | None = None) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(app, "run_cli", interrupted)
    with pytest.raises(SystemExit) as exited:
        app.main()
    assert exited.value.code == app.EXIT_INTERRUPTED == 130
    assert "interrupted: every connection was released" in capsys.readouterr().err


def test_python_dash_m_runs_main(monkeypatch: pytest.MonkeyPatch) -> None:
    """``python -m ...protocol.cli`` calls :func:`app.main` (in-process: measured on both legs)."""
    calls: list[None] = []
    monkeypatch.setattr(app, "main", lambda: calls.append(None))
    runpy.run_module("custom_components.ble_provisioning.protocol.cli", run_name="__main__")
    assert calls == [None]
