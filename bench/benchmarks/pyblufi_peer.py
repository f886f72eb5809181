"""PyPI ``pyblufi`` 0.1.0 as a peer: fetched into /tmp at run time, imported from its wheel.

Nothing of pyblufi is kept in the repository. :func:`load` downloads the pure-Python wheel with
pip (``--no-deps``: its dependencies, bleak and cryptography, are already here) into
``/tmp/ble-provisioning-bench`` once, checks its SHA-256, and imports it straight from the wheel
(a zip archive on ``sys.path``). pyblufi speaks plaintext BluFi only (no negotiation);
:func:`provision` runs the sequence its ``BlufiClient`` docstring shows (connect, STA mode,
SSID, password, connect to AP, wait for the Wi-Fi status, disconnect), with its ``BleakClient``
bound to the bench's backend. Its own debug prints go to a buffer.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import io
from pathlib import Path
import subprocess
import sys
from types import ModuleType
from typing import Any

from bleak import BleakClient
from bleak.backends.client import BaseBleakClient

VERSION = "0.1.0"
WHEEL = f"pyblufi-{VERSION}-py3-none-any.whl"
SHA256 = "71800551a3bd58f66a2019c947ba6f7be5315229a3828d3f60e8a3d0737db673"
CACHE = Path("/tmp/ble-provisioning-bench")  # noqa: S108 - a throw-away download, by design


class PeerUnavailableError(RuntimeError):
    """pyblufi could not be fetched or imported here."""


def _fetch() -> Path:
    wheel = CACHE / WHEEL
    if not wheel.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "--quiet",
            "--retries",
            "1",
            "--timeout",
            "15",
            "-d",
            str(CACHE),
            f"pyblufi=={VERSION}",
        ]
        try:
            subprocess.run(command, check=True, capture_output=True, timeout=60)  # noqa: S603
        except (OSError, subprocess.SubprocessError) as err:
            msg = f"pip download pyblufi=={VERSION} failed: {err}"
            raise PeerUnavailableError(msg) from err
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != SHA256:
        wheel.unlink()
        msg = f"{WHEEL}: unexpected SHA-256 {digest}"
        raise PeerUnavailableError(msg)
    return wheel


def cached() -> bool:
    """Whether the wheel is here already (no download needed)."""
    return (CACHE / WHEEL).exists()


def load() -> ModuleType:
    """Return ``pyblufi.client`` (fetching the wheel first when needed)."""
    wheel = str(_fetch())
    if wheel not in sys.path:
        sys.path.append(wheel)
    try:
        return importlib.import_module("pyblufi.client")
    except ImportError as err:
        msg = f"pyblufi {VERSION} does not import here: {err}"
        raise PeerUnavailableError(msg) from err


async def provision(
    module: Any,
    address: str,
    backend: type[BaseBleakClient],
    ssid: str,
    password: str,
    *,
    timeout: float = 15.0,
) -> dict[str, Any]:
    """Provision with pyblufi as its docstring shows; return what it reported."""
    module.BleakClient = functools.partial(BleakClient, backend=backend)
    client = module.BlufiClient()
    output = io.StringIO()
    status: Any = None
    with contextlib.redirect_stdout(output):
        if not await client.connect(address, timeout=timeout):
            return {"connected": False, "status": None}
        try:
            await client.set_sta_mode()
            await client.set_ssid(ssid)
            await client.set_password(password)
            await client.connect_to_ap()
            status = await client.wait_for_wifi_status(timeout=timeout)
        finally:
            await client.disconnect()
    return {
        "connected": True,
        "status": None if status is None else int(status.sta_conn_status),
        "ssid": None if status is None else status.sta_ssid,
    }
