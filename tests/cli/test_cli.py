"""The console command, in-process and once as a real subprocess, against the bench backend."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
import subprocess
import sys

import pytest

from custom_components.ble_provisioning.protocol.cli import app
from custom_components.ble_provisioning.protocol.cli.app import run_cli

from .conftest import BACKEND, PASSWORD, run_command as _run

ROOT = Path(__file__).resolve().parents[2]


async def test_scan(bench_env: pytest.MonkeyPatch) -> None:
    code, out, _ = await _run("scan", "--scan-timeout", "1")
    assert code == 0
    assert out.count("blufi ") == 4
    assert "bluenet   Bluenet device 00:05  B0:0B:1E:10:00:05" in out


async def test_provision_many_with_a_csv_report(
    bench_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    report = tmp_path / "out.csv"
    code, out, err = await _run(
        "provision", "--all", "--count", "5", "--ssid", "HomeNet",
        "--password-env", "WIFI_PASSWORD", "--slots", "2", "--report", str(report),
    )  # fmt: skip
    assert code == 0, err
    assert "5/5 succeeded" in err
    assert err.count("connected (") == 5  # one progress line per device
    rows = list(csv.DictReader(report.open()))
    assert len(rows) == 5
    assert {row["status"] for row in rows} == {"connected"}
    assert {row["protocol"] for row in rows} == {"blufi", "bluenet"}
    assert PASSWORD not in report.read_text() + out + err


async def test_a_failure_makes_the_exit_status_non_zero(
    bench_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bench_env.setenv("BLE_BENCH_WRONG", "1")
    report = tmp_path / "out.json"
    code, _, err = await _run(
        "provision", "--name", "BLUFI_*", "--count", "4", "--ssid", "HomeNet",
        "--password-env", "WIFI_PASSWORD", "--report", str(report),
    )  # fmt: skip
    assert code == 1
    data = json.loads(report.read_text())
    assert (data["total"], data["succeeded"], data["failed"]) == (4, 3, 1)
    (failed,) = [row for row in data["devices"] if not row["success"]]
    assert failed["status"] == "wrong_password"
    assert failed["reason_code"] == 15
    assert "3/4 succeeded, 1 failed" in err


async def test_unknown_address_is_reported(bench_env: pytest.MonkeyPatch) -> None:
    code, out, _ = await _run(
        "provision", "--address", "24:0a:c4:10:00:03", "--address", "24:0A:C4:99:99:99",
        "--scan-timeout", "1", "--ssid", "HomeNet", "--password-env", "WIFI_PASSWORD",
    )  # fmt: skip
    assert code == 1
    assert "24:0A:C4:10:00:03" in out
    assert "device_not_found" in out


async def test_password_from_a_file_and_from_the_prompt(
    bench_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    common = ["provision", "--address", "B0:0B:1E:10:00:05", "--ssid", "HomeNet"]
    code, _, err = await _run(*common, "--password-file", str(secret))
    assert code == 0, err
    asked: list[str] = []

    def prompt(text: str) -> str:
        asked.append(text)
        return PASSWORD

    bench_env.setattr("getpass.getpass", prompt)
    code, _, err = await _run(*common, interactive=True)
    assert code == 0, err
    assert asked == ["Wi-Fi password for HomeNet: "]
    # Not on a terminal and no source: refused before the radio is touched.
    code, _, err = await _run(*common)
    assert code == 2
    assert "no password" in err


async def test_no_password_on_the_command_line(bench_env: pytest.MonkeyPatch) -> None:
    for argv in (["--password", PASSWORD], [f"--password={PASSWORD}"]):
        code, out, err = await _run("provision", "--all", "--ssid", "HomeNet", *argv)
        assert code == 2
        assert "refused" in err
        assert PASSWORD not in out + err


async def test_usage_errors(bench_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    code, _, err = await _run("provision", "--ssid", "HomeNet", "--password-env", "WIFI_PASSWORD")
    assert code == 2
    assert "--address" in err
    code, _, err = await _run("provision", "--all", "--password-env", "WIFI_PASSWORD")
    assert (code, "--ssid" in err) == (2, True)
    code, _, err = await _run("provision", "--all", "--ssid", "x", "--password-env", "NOPE_VAR")
    assert (code, "NOPE_VAR" in err) == (2, True)
    code, _, err = await _run("provision", "--all", "--ssid", "x", "--open", "--password-env", "A")
    assert (code, "one of" in err) == (2, True)
    out, err_io = io.StringIO(), io.StringIO()
    assert await run_cli(["--backend", "nomodule", "scan"], stdout=out, stderr=err_io) == 2
    assert await run_cli(["--backend", "bench.cli_backend:nope", "scan"], stderr=err_io) == 2
    assert await run_cli(["--help"], stdout=out) == 0


async def test_networks_csv_status_and_custom_data(
    bench_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    networks = tmp_path / "networks.csv"
    networks.write_text(
        f"device,ssid,password\nBLUFI_DEVICE-0[12],HomeNet,{PASSWORD}\n"
        f"24:0a:c4:10:00:03,HomeNet,wrong-password\n"
    )
    code, out, _ = await _run(
        "provision", "--name", "BLUFI_*", "--count", "4", "--networks", str(networks)
    )
    assert code == 1
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert "connected" in lines["24:0A:C4:10:00:01"]
    assert "wrong_password" in lines["24:0A:C4:10:00:03"]
    assert "no_network" in lines["24:0A:C4:10:00:04"]

    code, out, _ = await _run("status", "--address", "24:0A:C4:10:00:01")
    assert code == 0
    assert "disconnected" in out  # a fresh bench: the devices are not provisioned
    code, out, _ = await _run(
        "custom-data", "--address", "24:0A:C4:10:00:01", "--hex", "0102ff", "--wait", "5"
    )
    assert code == 0
    assert "0102ff" in out  # the emulator echoes
    code, out, _ = await _run("custom-data", "--address", "B0:0B:1E:10:00:05", "hello")
    assert code == 1
    assert "not_supported_operation" in out
    code, _, err = await _run("custom-data", "--all", "--hex", "zz")
    assert (code, "hexadecimal" in err) == (2, True)


def test_progress_bar_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    progress = app.Progress(2, stream)
    progress.advance("a", ok=True, detail="connected")
    progress.advance("b", ok=False, detail="timeout")
    assert stream.getvalue().endswith("] 2/2  1 failed\n")
    assert "[###############...............] 1/2" in stream.getvalue()


def test_as_a_subprocess(tmp_path: Path) -> None:
    """The real entry point (python -m), with the password in the environment."""
    report = tmp_path / "report.json"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "BLE_BENCH_DEVICES": "blufi-v2:1,bluenet:1",
        "BLE_BENCH_DH_BITS": "256",
        "WIFI_PASSWORD": PASSWORD,
    }
    env.pop("BLE_BENCH_WRONG", None)
    command = [
        sys.executable, "-m", "custom_components.ble_provisioning.protocol.cli", *BACKEND,
        "provision", "--all", "--count", "2", "--ssid", "HomeNet",
        "--password-env", "WIFI_PASSWORD", "--report", str(report),
    ]  # fmt: skip
    done = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(report.read_text())["succeeded"] == 2
