"""``ble-wifi-provision``: the commands.

* ``scan``: devices advertising BluFi or Bluenet (protocol, name, address, RSSI).
* ``provision``: one or many devices (``--address``, ``--name PATTERN``, ``--all``), all to one
  network (``--ssid``, password from ``--password-env``, ``--password-file`` or a prompt) or each
  to its own (``--networks FILE.csv``), concurrently within ``--slots`` connections per adapter,
  with a progress bar and ``--report out.csv|out.json``. The exit status is 1 when any device
  failed.
* ``status``: the Wi-Fi status of each selected device.
* ``custom-data``: send BluFi custom data, optionally wait for the reply.

Exit status: 0 all good, 1 a device failed (or none was found), 2 bad usage, 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
import contextlib
from dataclasses import dataclass
import fnmatch
import sys
import time
from typing import Any, NoReturn, TextIO

from ..device import DEFAULT_TIMEOUT, ProvisioningDevice, create_device
from ..discovery import FoundDevice, scan
from ..engine import DEFAULT_MAX_ATTEMPTS, DeviceResult, ProvisioningEngine, Target
from ..errors import DeviceNotFoundError, ProvisioningError
from ..models import Protocol, ProvisionRequest
from ..slots import AdapterSlots
from .backend import Backend, load_factory
from .output import Progress, table, write_report
from .passwords import NetworkRow, PasswordError, read_networks, read_password

PROG = "ble-wifi-provision"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
PROVISION_COLUMNS = (
    *("address", "name", "protocol", "status", "reason_code", "rssi", "attempts", "duration"),
)
STATUS_COLUMNS = ("address", "name", "protocol", "status", "ssid", "rssi", "failure")
CUSTOM_COLUMNS = ("address", "name", "protocol", "status", "reply")


class UsageError(Exception):
    """Bad usage: printed and exit status 2."""


class _RefusePassword(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> NoReturn:
        parser.error(
            "a password on the command line is refused (other users and the shell history can "
            "read it): use --password-env VAR, --password-file PATH or the prompt"
        )


def _selection(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("devices")
    group.add_argument("--address", action="append", default=[], help="device address (repeat)")
    group.add_argument("--name", action="append", default=[], help="name pattern, e.g. 'BLUFI_*'")
    group.add_argument("--all", action="store_true", help="every device found")
    group.add_argument("--count", type=int, help="stop scanning once this many devices matched")
    group.add_argument("--protocol", choices=[p.value for p in Protocol], help="only this one")
    group.add_argument("--scan-timeout", type=float, default=10.0, help="seconds (default 10)")
    parser.add_argument("--slots", type=int, default=3, help="connections per adapter (3)")
    parser.add_argument("--report", help="write a per-device report: out.csv or out.json")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Wi-Fi provisioning over BLE (Espressif BluFi, Bluenet)."
    )
    parser.add_argument(
        "--backend", help="MODULE:FACTORY of another bleak backend (default: the platform's)"
    )
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per step (15)"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    scan_parser = commands.add_parser("scan", help="list BluFi and Bluenet devices")
    scan_parser.add_argument("--scan-timeout", type=float, default=5.0, help="seconds (5)")
    scan_parser.add_argument("--protocol", choices=[p.value for p in Protocol])

    provision = commands.add_parser("provision", help="provision one or many devices")
    _selection(provision)
    network = provision.add_argument_group("network")
    network.add_argument("--ssid", help="the network every device joins")
    network.add_argument("--password-env", metavar="VAR", help="read the password from $VAR")
    network.add_argument("--password-file", metavar="PATH", help="read it from a file (- stdin)")
    network.add_argument("--open", action="store_true", help="an open network (no password)")
    network.add_argument(
        "--networks", metavar="CSV", help="per-device networks: device,ssid,password"
    )
    network.add_argument("--password", nargs="?", action=_RefusePassword, help=argparse.SUPPRESS)
    network.add_argument("--allow-unencrypted", action="store_true", help="BluFi without security")
    provision.add_argument("--attempts", type=int, default=DEFAULT_MAX_ATTEMPTS, help="(3)")
    provision.add_argument("--join-timeout", type=float, default=30.0, help="seconds (30)")
    provision.add_argument("--verify", action="store_true", help="confirm with a status read")

    status = commands.add_parser("status", help="read the Wi-Fi status")
    _selection(status)

    custom = commands.add_parser("custom-data", help="send BluFi custom data")
    _selection(custom)
    custom.add_argument("data", help="the data (text, or hex with --hex)")
    custom.add_argument("--hex", action="store_true", help="DATA is hexadecimal")
    custom.add_argument("--wait", type=float, help="wait this many seconds for the reply")
    return parser


@dataclass(slots=True)
class _Context:
    options: argparse.Namespace
    backend: Backend
    out: TextIO
    err: TextIO


async def run_cli(
    argv: Sequence[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    interactive: bool | None = None,
) -> int:
    """Run the command line ``argv``; return the exit status."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = build_parser()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            options = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    if interactive is None:
        interactive = sys.stdin.isatty()
    try:
        factory = load_factory(options.backend)
        requests = _requests(options, interactive) if options.command == "provision" else None
    except (UsageError, PasswordError, ValueError, ImportError) as error:
        err.write(f"{PROG}: error: {error}\n")
        return EXIT_USAGE
    async with factory() as provided:
        context = _Context(options, Backend.of(provided), out, err)
        try:
            if options.command == "scan":
                return await _scan(context)
            if options.command == "provision":
                assert requests is not None
                return await _provision(context, requests)
            if options.command == "status":
                return await _status(context)
            return await _custom_data(context)
        except UsageError as error:
            err.write(f"{PROG}: error: {error}\n")
            return EXIT_USAGE
        except ProvisioningError as error:
            err.write(f"{PROG}: {error.error_key}: {error}\n")
            return EXIT_FAILED


def main() -> None:
    """Console entry point."""
    try:
        code = asyncio.run(run_cli())
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted: every connection was released\n")
        code = EXIT_INTERRUPTED
    sys.exit(code)


# ------------------------------------------------------------------ scan


async def _scan(context: _Context) -> int:
    options = context.options
    protocols = [Protocol(options.protocol)] if options.protocol else list(Protocol)
    found = await scan(options.scan_timeout, protocols=protocols, backend=context.backend.scanner)
    rows = [
        {"protocol": d.protocol.value, "name": d.name, "address": d.address, "rssi": d.rssi}
        for d in found
    ]
    table(rows, ("protocol", "name", "address", "rssi"), context.out)
    if not found:
        context.err.write("no BluFi or Bluenet device found\n")
        return EXIT_FAILED
    return EXIT_OK


# ------------------------------------------------------------------ selection


async def _select(context: _Context) -> tuple[list[FoundDevice], list[str]]:
    """Scan for the devices the options name; return them and the addresses not seen."""
    options = context.options
    addresses = {address.upper() for address in options.address}
    patterns: list[str] = options.name
    if not (addresses or patterns or options.all):
        msg = "choose the devices: --address, --name PATTERN or --all"
        raise UsageError(msg)

    def chosen(device: FoundDevice) -> bool:
        return bool(
            options.all
            or device.address in addresses
            or any(fnmatch.fnmatchcase(device.name, pattern) for pattern in patterns)
        )

    def enough(seen: dict[str, FoundDevice]) -> bool:
        if options.count:
            return sum(1 for device in seen.values() if chosen(device)) >= int(options.count)
        return not patterns and not options.all and addresses <= seen.keys()

    protocols = [Protocol(options.protocol)] if options.protocol else list(Protocol)
    found = await scan(
        options.scan_timeout, protocols=protocols, backend=context.backend.scanner, done=enough
    )
    # In the order asked for where addresses were given, else strongest first.
    selected = sorted(
        (device for device in found if chosen(device)),
        key=lambda device: device.address not in addresses,
    )
    if options.count:
        selected = selected[: options.count]
    missing = sorted(addresses - {device.address for device in found})
    if not selected and not missing:
        msg = "no matching device found"
        raise DeviceNotFoundError(msg)
    return selected, missing


def _missing_row(address: str) -> dict[str, Any]:
    return {"address": address, "name": None, "protocol": None, "status": "device_not_found"}


# ------------------------------------------------------------------ provision


def _requests(options: argparse.Namespace, interactive: bool) -> _Requests:
    """Read the network(s) before anything touches the radio."""
    unencrypted = bool(options.allow_unencrypted)
    if options.networks:
        if options.ssid:
            msg = "--ssid and --networks exclude each other"
            raise UsageError(msg)
        return _Requests(None, read_networks(options.networks), unencrypted)
    if not options.ssid:
        msg = "--ssid (or --networks) is required"
        raise UsageError(msg)
    password = read_password(
        env=options.password_env,
        file=options.password_file,
        open_network=options.open,
        ssid=options.ssid,
        interactive=interactive,
    )
    request = ProvisionRequest(options.ssid, password or None, allow_unencrypted=unencrypted)
    return _Requests(request, [], unencrypted)


@dataclass(frozen=True, slots=True)
class _Requests:
    common: ProvisionRequest | None
    rows: list[NetworkRow]
    allow_unencrypted: bool

    def for_device(self, device: FoundDevice) -> ProvisionRequest | None:
        if self.common is not None:
            return self.common
        for row in self.rows:
            if row.matches(device.address, device.name):
                return ProvisionRequest(
                    row.ssid, row.password, allow_unencrypted=self.allow_unencrypted
                )
        return None


async def _provision(context: _Context, requests: _Requests) -> int:
    options = context.options
    selected, missing = await _select(context)
    targets: list[Target] = []
    rows: list[dict[str, Any]] = [_missing_row(address) for address in missing]
    for device in selected:
        request = requests.for_device(device)
        if request is None:
            row = {"address": device.address, "name": device.name, "status": "no_network"}
            rows.append({**row, "protocol": device.protocol.value})
            continue
        targets.append(Target(device.ble_device, device.protocol, device.name, request))
    engine = ProvisioningEngine(
        slots=AdapterSlots(options.slots, adapter_key=context.backend.adapter_key),
        backend=context.backend.client,
        max_attempts=options.attempts,
        step_timeout=options.timeout,
        provision_timeout=options.join_timeout,
    )
    progress = Progress(len(targets), context.err, enabled=not options.quiet)
    started = time.monotonic()
    results: list[DeviceResult] = []
    try:
        async with engine.provision(targets, verify=options.verify) as run:
            async for result in run:
                results.append(result)
                detail = f"{result.status} ({result.duration:.1f} s)"
                progress.advance(result.name or result.address, ok=result.success, detail=detail)
    finally:
        # Also when interrupted: what finished is reported.
        rows[:0] = [result.as_dict() for result in results]
        _finish(context, rows, PROVISION_COLUMNS, time.monotonic() - started)
    return _exit_status(rows)


def _finish(
    context: _Context, rows: list[dict[str, Any]], columns: Sequence[str], elapsed: float
) -> None:
    table(rows, columns, context.out)
    succeeded = sum(1 for row in rows if _ok(row))
    summary = {
        "command": context.options.command,
        "total": len(rows),
        "succeeded": succeeded,
        "failed": len(rows) - succeeded,
        "elapsed": round(elapsed, 3),
    }
    context.err.write(
        f"{succeeded}/{len(rows)} succeeded, {len(rows) - succeeded} failed, {elapsed:.1f} s\n"
    )
    if context.options.report:
        write_report(context.options.report, rows, summary)


def _ok(row: dict[str, Any]) -> bool:
    return bool(row.get("success"))


def _exit_status(rows: list[dict[str, Any]]) -> int:
    return EXIT_OK if rows and all(_ok(row) for row in rows) else EXIT_FAILED


# ------------------------------------------------------------------ status, custom data

Operation = Callable[[ProvisioningDevice], Awaitable[dict[str, Any]]]


async def _each(context: _Context, operation: Operation) -> AsyncIterator[dict[str, Any]]:
    """Run ``operation`` on every selected device, within the slots; rows as they finish."""
    selected, missing = await _select(context)
    for address in missing:
        yield _missing_row(address)
    slots = AdapterSlots(context.options.slots, adapter_key=context.backend.adapter_key)

    async def one(found: FoundDevice) -> dict[str, Any]:
        device = create_device(
            found.protocol,
            found.ble_device,
            backend=context.backend.client,
            slots=slots,
            timeout=context.options.timeout,
        )
        row: dict[str, Any] = {
            "address": found.address,
            "name": found.name,
            "protocol": found.protocol.value,
        }
        try:
            row.update(await operation(device))
        except ProvisioningError as error:
            row.update(success=False, status=error.error_key)
        finally:
            await device.close()
        return row

    tasks = [asyncio.ensure_future(one(found)) for found in selected]
    try:
        for next_done in asyncio.as_completed(tasks):
            yield await next_done
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _rows(context: _Context, operation: Operation, columns: Sequence[str]) -> int:
    started = time.monotonic()
    rows: list[dict[str, Any]] = []
    try:
        async for row in _each(context, operation):
            rows.append(row)  # noqa: PERF401 - one by one: an interrupted run still reports
    finally:
        _finish(context, rows, columns, time.monotonic() - started)
    return _exit_status(rows)


async def _status(context: _Context) -> int:
    async def read(device: ProvisioningDevice) -> dict[str, Any]:
        status = await device.get_status()
        return {
            "success": True,
            "status": status.state.value,
            "ssid": status.ssid,
            "bssid": status.bssid,
            "rssi": status.rssi,
            "failure": None if status.failure is None else status.failure.value,
            "reason_code": status.end_reason_code,
            "hostname": status.hostname,
        }

    return await _rows(context, read, STATUS_COLUMNS)


async def _custom_data(context: _Context) -> int:
    options = context.options
    try:
        data = bytes.fromhex(options.data) if options.hex else options.data.encode("utf-8")
    except ValueError:
        msg = "DATA is not hexadecimal"
        raise UsageError(msg) from None

    async def send(device: ProvisioningDevice) -> dict[str, Any]:
        if options.wait is None:
            await device.send_custom_data(data)
            return {"success": True, "status": "sent", "reply": None}
        reply = await device.send_and_wait_custom_data(data, options.wait)
        text = reply.decode("utf-8", errors="replace") if not options.hex else reply.hex()
        return {"success": True, "status": "replied", "reply": text}

    return await _rows(context, send, CUSTOM_COLUMNS)
