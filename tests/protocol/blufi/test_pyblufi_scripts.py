"""Scripts written for pyBlufi (someburner/pyBlufi, the seed API) run on ``compat`` unchanged
except for the import line (issue 10 item 18).

``SCRIPT`` below is written in the style of pyBlufi's own ``test.py`` and calls the API the
same way (module-level, synchronous, ``import ... as blufi``): ``connectByName`` without a
timeout, ``setPostPackageLengthLimit(256)``, security, version, NULL→STA mode and a scan,
credentials, custom data as a keyword argument and a large echo, notifications switched off
and on around ``postDeviceMode``, ``sys.exit(0)``. On main it stopped at
``setPostPackageLengthLimit`` (missing), and with notifications off ``postDeviceMode`` waited
for an ACK that cannot arrive.

pyBlufi's ``test.py`` itself is not part of this repository. To run it too, point
``PYBLUFI_TEST_SCRIPT`` at a copy: ``test_pyblufi_own_test_script`` replaces its
``import blufi`` line, turns its ``TEST_*`` switches on, and runs it against the bench.
"""

from __future__ import annotations

import os
from pathlib import Path
import re
import sys
from typing import Any

import pytest

from bench.emulators.blufi import WifiAp
from custom_components.ble_provisioning.protocol.blufi.const import OpMode, StaConnState

from .compat_bench import BenchBlufiClient, bench_clients, networks_with

IMPORT_LINE = "from custom_components.ble_provisioning.protocol.blufi import compat as blufi"

SCRIPT = f"""\
#!/usr/bin/env python3
{IMPORT_LINE}
import sys

DO_SECURITY = True
DO_SCAN = True
DO_WIFI = True
DO_CUSTOM = True
DO_NOTIFY = True
CREDS = {{"ssid": "ScriptNet", "pass": "script-pass"}}

client = blufi.BlufiClient()
client.connectByName("BLUFI_DEVICE")
client.setPostPackageLengthLimit(256)

if DO_SECURITY:
    client.negotiateSecurity()

client.requestVersion()
print("Version:", client.getVersion())

if DO_SCAN:
    client.postDeviceMode(blufi.OP_MODE_NULL)
    client.postDeviceMode(blufi.OP_MODE_STA)
    client.requestDeviceScan()
    for entry in client.getSSIDList():
        print("SSID", entry)

if DO_WIFI:
    client.postDeviceMode(blufi.OP_MODE_STA)
    client.postStaWifiInfo(CREDS)
    for _ in range(200):
        if client.getWifiState()["staConn"] == blufi.STA_CONN_SUCCESS:
            break
        client.wait(0.02)
    print("State:", client.getWifiState())

if DO_CUSTOM:
    client.postCustomData(data=bytes.fromhex("0a0b0c"))
    client.wait(0.2)
    client.postCustomData(data=bytes(range(256)) * 7 + bytes(128))
    client.wait(0.5)

if DO_NOTIFY:
    client.stopNotify()
    client.postDeviceMode(blufi.OP_MODE_NULL)
    client.postDeviceMode(blufi.OP_MODE_NULL)
    client.startNotify()
    client.postDeviceMode(blufi.OP_MODE_NULL)
    client.postDeviceMode(blufi.OP_MODE_NULL)
    client.requestVersion()
    sys.exit(0)

print("Exiting")
"""

SCRIPT_NET = WifiAp("ScriptNet", -50, "script-pass")


def run_script(text: str, path: Path) -> None:
    """Run ``text`` as ``__main__`` (a SystemExit(0) is a normal end)."""
    path.write_text(text)
    code = compile(text, str(path), "exec")
    exit_code: object = None
    try:
        exec(code, {"__name__": "__main__", "__file__": str(path)})
    except SystemExit as done:
        exit_code = done.code
    assert exit_code in (0, None), exit_code


@pytest.mark.parametrize("profile", ["v5.5", "v6.0"])
def test_pyblufi_style_script_runs_unchanged(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    profile: str,
) -> None:
    with bench_clients(monkeypatch, profile, networks_with(SCRIPT_NET)):
        run_script(SCRIPT, tmp_path / "script.py")
        (client,) = BenchBlufiClient.made
        model = client.device.model
        out = capsys.readouterr().out
        assert f"Version: {'1.3' if profile == 'v5.5' else '1.4'}" in out
        assert "SSID {'ssid': 'HomeNet', 'rssi': -45}" in out
        # the pushed success report alone updated getWifiState() (no requestDeviceStatus)
        assert f"'staConn': {StaConnState.CONNECTED}" in out
        assert f"'opMode': {OpMode.STA}" in out
        assert model.fields["sta_ssid"] == [b"ScriptNet"]
        assert model.fields["sta_passwd"] == [b"script-pass"]
        assert model.fields["opmode"] == [0, 1, 1, 0, 0, 0, 0]
        assert model.negotiations == 1
        assert client.custom == [bytes.fromhex("0a0b0c"), bytes(range(256)) * 7 + bytes(128)]
        assert max(len(w) for w in model.writes) <= 256 - 4  # the package limit, pyBlufi's way
        assert model.errors_sent == []


@pytest.mark.skipif(
    not os.environ.get("PYBLUFI_TEST_SCRIPT"),
    reason="set PYBLUFI_TEST_SCRIPT to pyBlufi's test.py to run it",
)
def test_pyblufi_own_test_script(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = Path(os.environ["PYBLUFI_TEST_SCRIPT"]).read_text()
    text, count = re.subn(r"(?m)^import blufi$", IMPORT_LINE, original)
    assert count == 1
    text = re.sub(r"(?m)^(TEST_\w+) = False$", r"\1 = True", text)  # its own option switches
    creds = re.search(r"'ssid': '([^']+)',\s*'pass': '([^']+)'", text)
    assert creds is not None
    network = WifiAp(creds[1], -50, creds[2])
    with bench_clients(monkeypatch, "v5.5", networks_with(network)):
        run_script(text, tmp_path / "test.py")
        (client,) = BenchBlufiClient.made
        model: Any = client.device.model
        assert "Version:  1.3" in capsys.readouterr().out
        assert model.fields["sta_ssid"] == [creds[1].encode()]
        assert len(client.custom) == 2
        assert model.errors_sent == []
    assert "blufi" not in sys.modules or sys.modules["blufi"] is not None
