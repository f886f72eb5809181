"""Finish Home Assistant's onboarding over its HTTP API and wait for the demo's devices.

Used by scripts/develop right after `hass` starts (the `core_config` step is already marked done
in `.storage/onboarding` before the first start, so HA never starts the onboarding flows whose
offline pip installs delay start-up). On a kept configuration (a later start) it logs in
instead. Runs with the Home Assistant venv's Python (aiohttp).

    python dev/onboard.py --url http://127.0.0.1:8123 --username demo --password demo1234 \
        --wait-devices 3 --wait-proxy bench-esphome-proxy --timeout 120

``--wait-devices N`` waits until N of the integration's devices are either waiting as discovery
flows or already configured (config entries). ``--wait-proxy NAME`` waits until Settings >
Bluetooth lists the Bluetooth proxy NAME with its connection slots, and prints what that page
shows (the ``bluetooth`` config entries, their scanner details and slot allocations, read over
the websocket API as the frontend reads them, and the ``esphome`` entries).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

import aiohttp

DOMAIN = "ble_provisioning"


class OnboardingError(RuntimeError):
    """Onboarding did not complete."""


async def _json(resp: aiohttp.ClientResponse) -> Any:
    try:
        return await resp.json(content_type=None)
    except ValueError:
        return await resp.text()


async def wait_http(session: aiohttp.ClientSession, base: str, deadline: float) -> bool:
    """Wait until HA answers /api/onboarding; return True once onboarding is complete.

    A HA whose onboarding is complete (a kept configuration) no longer serves the onboarding
    views: 404.
    """
    last: Exception | str | None = None
    while time.monotonic() < deadline:
        try:
            async with session.get(f"{base}/api/onboarding") as resp:
                if resp.status == 404:
                    return True
                if resp.status == 200:
                    steps = await resp.json()
                    return any(s["step"] == "user" and s["done"] for s in steps)
                last = f"HTTP {resp.status}"
        except (aiohttp.ClientError, OSError) as err:
            last = err
        await asyncio.sleep(0.2)
    raise OnboardingError(f"Home Assistant did not answer at {base}: {last}")


async def _token(session: aiohttp.ClientSession, base: str, code: str) -> str:
    form = {"grant_type": "authorization_code", "code": code, "client_id": f"{base}/"}
    async with session.post(f"{base}/auth/token", data=form) as resp:
        body = await _json(resp)
        if resp.status != 200:
            raise OnboardingError(f"token: HTTP {resp.status}: {body}")
        return str(body["access_token"])


async def onboard(
    session: aiohttp.ClientSession, base: str, name: str, username: str, password: str
) -> str:
    """Create the owner, finish every remaining step; return an access token."""
    client_id = f"{base}/"
    user = {
        "client_id": client_id,
        "name": name,
        "username": username,
        "password": password,
        "language": "en",
    }
    async with session.post(f"{base}/api/onboarding/users", json=user) as resp:
        body = await _json(resp)
        if resp.status != 200:
            raise OnboardingError(f"user step: HTTP {resp.status}: {body}")
    token = await _token(session, base, body["auth_code"])
    headers = {"Authorization": f"Bearer {token}"}
    for step, payload in (
        ("core_config", {}),
        ("analytics", {}),
        ("integration", {"client_id": client_id, "redirect_uri": f"{base}/?auth_callback=1"}),
    ):
        async with session.post(
            f"{base}/api/onboarding/{step}", json=payload, headers=headers
        ) as resp:
            # 403: step already done (core_config is seeded before the first start)
            if resp.status not in (200, 403):
                raise OnboardingError(f"{step} step: HTTP {resp.status}: {await _json(resp)}")
    return token


async def login(session: aiohttp.ClientSession, base: str, username: str, password: str) -> str:
    """Log in through the login flow API (when onboarding was already done)."""
    client_id = f"{base}/"
    start = {
        "client_id": client_id,
        "handler": ["homeassistant", None],
        "redirect_uri": f"{base}/?auth_callback=1",
    }
    async with session.post(f"{base}/auth/login_flow", json=start) as resp:
        flow = await _json(resp)
        if resp.status != 200:
            raise OnboardingError(f"login flow: HTTP {resp.status}: {flow}")
    creds = {"client_id": client_id, "username": username, "password": password}
    async with session.post(f"{base}/auth/login_flow/{flow['flow_id']}", json=creds) as resp:
        result = await _json(resp)
        if resp.status != 200 or result.get("type") != "create_entry":
            raise OnboardingError(f"login: HTTP {resp.status}: {result}")
    return await _token(session, base, result["result"])


class _Websocket:
    """A minimal authenticated websocket client of HA's API."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.msg_id = 0

    async def authenticate(self, token: str) -> None:
        await self.ws.receive_json()  # auth_required
        await self.ws.send_json({"type": "auth", "access_token": token})
        if (await self.ws.receive_json()).get("type") != "auth_ok":
            raise OnboardingError("websocket authentication failed")

    async def call(self, msg_type: str, **fields: Any) -> Any:
        """Send a command; return its result (raise on an error)."""
        self.msg_id += 1
        await self.ws.send_json({"id": self.msg_id, "type": msg_type, **fields})
        while True:
            reply = await self.ws.receive_json()
            if reply.get("id") != self.msg_id or reply.get("type") != "result":
                continue
            if not reply.get("success"):
                raise OnboardingError(f"{msg_type}: {reply.get('error')}")
            return reply.get("result")

    async def first_event(self, msg_type: str, **fields: Any) -> Any:
        """Subscribe, return the first event (None if none comes within 2 s), unsubscribe."""
        result = await self.call(msg_type, **fields)
        del result
        subscription = self.msg_id
        event = None
        try:
            async with asyncio.timeout(2):
                while True:
                    reply = await self.ws.receive_json()
                    if reply.get("id") == subscription and reply.get("type") == "event":
                        event = reply.get("event")
                        break
        except TimeoutError:
            pass
        await self.call("unsubscribe_events", subscription=subscription)
        return event


async def wait_devices(
    ws: _Websocket, count: int, deadline: float
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Wait until ``count`` devices are discovered (flows) or configured (entries)."""
    flows: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        progress = await ws.call("config_entries/flow/progress")
        flows = [f for f in progress or [] if f.get("handler") == DOMAIN]
        entries = await ws.call("config_entries/get", domain=DOMAIN) or []
        if len(flows) + len(entries) >= count:
            return flows, entries
        await asyncio.sleep(0.2)
    raise OnboardingError(
        f"only {len(flows)} discovered + {len(entries)} configured of {count} devices"
    )


async def bluetooth_report(ws: _Websocket, name: str) -> list[str]:
    """Describe the Bluetooth proxy called ``name`` as Settings > Bluetooth shows it.

    Read from the ``bluetooth`` config entries, their scanner details and slot allocations,
    and the ``esphome`` entries; empty until the esphome entry is loaded and the proxy has a
    Bluetooth entry and a slot report.
    """
    esphome = await ws.call("config_entries/get", domain="esphome") or []
    if not esphome or any(e["state"] != "loaded" for e in esphome):
        return []  # the slot report of a scanner whose esphome entry is not loaded is stale
    lines: list[str] = []
    for entry in await ws.call("config_entries/get", domain="bluetooth") or []:
        details = await ws.first_event(
            "bluetooth/subscribe_scanner_details", config_entry_id=entry["entry_id"]
        )
        scanners = (details or {}).get("add") or []
        if not scanners or not str(scanners[0].get("name", "")).startswith(name):
            continue
        allocations = await ws.first_event(
            "bluetooth/subscribe_connection_allocations", config_entry_id=entry["entry_id"]
        )
        if not allocations or not allocations[0].get("slots"):
            continue
        scanner, slots = scanners[0], allocations[0]
        kind = "connectable" if scanner.get("connectable") else "passive"
        lines.append(
            f"{entry['title']} [{entry['state']}]: {kind}, {slots['slots']} connection slots "
            f"({slots['free']} free)"
        )
        lines += [f"added by ESPHome entry {e['title']!r} [{e['state']}]" for e in esphome]
    return lines


async def wait_proxy(ws: _Websocket, name: str, deadline: float) -> list[str]:
    """Wait until Settings > Bluetooth lists the proxy ``name``; return the report."""
    while time.monotonic() < deadline:
        if lines := await bluetooth_report(ws, name):
            return lines
        await asyncio.sleep(0.5)
    raise OnboardingError(f"Settings > Bluetooth does not list the proxy {name!r}")


async def run(args: argparse.Namespace) -> None:
    """Onboard (or log in), then wait for the devices and the Bluetooth proxy."""
    base = args.url.rstrip("/")
    deadline = time.monotonic() + args.timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        if await wait_http(session, base, deadline):
            token = await login(session, base, args.username, args.password)
        else:
            token = await onboard(session, base, args.name, args.username, args.password)
        if not args.wait_devices and not args.wait_proxy:
            return
        async with session.ws_connect(f"{base}/api/websocket") as raw:
            ws = _Websocket(raw)
            await ws.authenticate(token)
            flows, entries = await wait_devices(ws, args.wait_devices, deadline)
            proxy = await wait_proxy(ws, args.wait_proxy, deadline) if args.wait_proxy else []
    for flow in flows:
        title = flow.get("context", {}).get("title_placeholders", {}).get("name", "?")
        print(f"  discovered: {title} (flow step {flow.get('step_id')})")  # noqa: T201
    for entry in entries:
        print(f"  configured: {entry['title']} [{entry['state']}]")  # noqa: T201
    for line in proxy:
        print(f"  Settings > Bluetooth: {line}")  # noqa: T201


def main() -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description="Onboard the demo Home Assistant.")
    parser.add_argument("--url", default="http://127.0.0.1:8123")
    parser.add_argument("--name", default="Demo")
    parser.add_argument("--username", default="demo")
    parser.add_argument("--password", default="demo1234")
    parser.add_argument("--wait-devices", type=int, default=0)
    parser.add_argument("--wait-proxy", default="", help="name of the Bluetooth proxy")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    try:
        asyncio.run(run(args))
    except (OnboardingError, aiohttp.ClientError, OSError) as err:
        print(f"onboarding failed: {err}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
