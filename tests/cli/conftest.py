"""Fixtures of the console command's tests."""

from __future__ import annotations

import io

import pytest

from custom_components.ble_provisioning.protocol.cli.app import run_cli

BACKEND = ["--backend", "bench.cli_backend:factory"]
PASSWORD = "correct-horse-battery"


@pytest.fixture
def bench_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The bench backend's fleet: four BluFi devices (two per version) and one Bluenet."""
    monkeypatch.setenv("BLE_BENCH_DEVICES", "blufi-v1:2,blufi-v2:2,bluenet:1")
    monkeypatch.setenv("BLE_BENCH_DH_BITS", "256")  # the firmware's 3072 bits: ~1 s CPU each
    monkeypatch.delenv("BLE_BENCH_WRONG", raising=False)
    monkeypatch.setenv("WIFI_PASSWORD", PASSWORD)
    return monkeypatch


async def run_command(*argv: str, interactive: bool = False) -> tuple[int, str, str]:
    """Run the command in-process on the bench backend; return (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = await run_cli([*BACKEND, *argv], stdout=out, stderr=err, interactive=interactive)
    return code, out.getvalue(), err.getvalue()
