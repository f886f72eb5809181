"""Where the Wi-Fi password comes from: a prompt, a file or an environment variable.

Never the command line (anyone on the machine can read another process's arguments, and shells
keep a history). Per-device networks can come from a CSV file (``device,ssid,password``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
import fnmatch
import getpass
import os
from pathlib import Path
import sys


class PasswordError(ValueError):
    """The password could not be obtained (message without the password)."""


def read_password(
    *, env: str | None, file: str | None, open_network: bool, ssid: str, interactive: bool
) -> str | None:
    """Return the password from the one source chosen (None: an open network)."""
    chosen = [name for name, value in (("env", env), ("file", file)) if value]
    if open_network:
        chosen.append("open")
    if len(chosen) > 1:
        msg = "choose one of --password-env, --password-file and --open"
        raise PasswordError(msg)
    if open_network:
        return None
    if env:
        value = os.environ.get(env)
        if value is None:
            msg = f"the environment variable {env} is not set"
            raise PasswordError(msg)
        return value
    if file:
        return _read_file(file)
    if not interactive:
        msg = "no password: use --password-env, --password-file, --open, or run on a terminal"
        raise PasswordError(msg)
    return getpass.getpass(f"Wi-Fi password for {ssid}: ")


def _read_file(path: str) -> str:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as err:
        msg = f"cannot read the password file {path}: {err.strerror}"
        raise PasswordError(msg) from None
    return text.rstrip("\r\n")


@dataclass(frozen=True, slots=True)
class NetworkRow:
    """One row of a networks CSV: a device (address or name pattern) and its network."""

    device: str
    ssid: str
    password: str | None = field(default=None, repr=False)

    def matches(self, address: str, name: str) -> bool:
        """Whether this row is for the device (address, or a name pattern)."""
        return self.device.upper() == address.upper() or fnmatch.fnmatchcase(name, self.device)


def read_networks(path: str) -> list[NetworkRow]:
    """Read ``device,ssid,password`` rows (a header line is required; password may be empty)."""
    try:
        with Path(path).open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as err:
        msg = f"cannot read {path}: {err.strerror}"
        raise PasswordError(msg) from None
    networks: list[NetworkRow] = []
    for number, row in enumerate(rows, start=2):
        device, ssid = (row.get("device") or "").strip(), row.get("ssid") or ""
        if not device or not ssid:
            msg = f"{path}:{number}: a row needs device and ssid"
            raise PasswordError(msg)
        networks.append(NetworkRow(device, ssid, row.get("password") or None))
    return networks
