"""Finish Home Assistant's onboarding over its HTTP API and wait for the demo's discoveries.

Used by scripts/develop right after `hass` starts (the `core_config` step is already marked done
in `.storage/onboarding` before the first start, so HA never starts the onboarding flows whose
offline pip installs delay start-up). Runs with the Home Assistant venv's Python (aiohttp).

    python dev/onboard.py --url http://127.0.0.1:8123 --username demo --password demo1234 \
        --wait-flows 3 --timeout 120
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


async def wait_http(session: aiohttp.ClientSession, base: str, deadline: float) -> Any:
    """Wait until HA answers /api/onboarding; return the step list."""
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            async with session.get(f"{base}/api/onboarding") as resp:
                if resp.status == 200:
                    return await resp.json()
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


async def wait_flows(
    session: aiohttp.ClientSession, base: str, token: str, count: int, deadline: float
) -> list[dict[str, Any]]:
    """Wait until `count` discovery flows of the integration are in progress (websocket API)."""
    flows: list[dict[str, Any]] = []
    async with session.ws_connect(f"{base}/api/websocket") as ws:
        await ws.receive_json()  # auth_required
        await ws.send_json({"type": "auth", "access_token": token})
        if (await ws.receive_json()).get("type") != "auth_ok":
            raise OnboardingError("websocket authentication failed")
        msg_id = 0
        while time.monotonic() < deadline:
            msg_id += 1
            await ws.send_json({"id": msg_id, "type": "config_entries/flow/progress"})
            reply = await ws.receive_json()
            flows = [f for f in reply.get("result") or [] if f.get("handler") == DOMAIN]
            if len(flows) >= count:
                return flows
            await asyncio.sleep(0.2)
    raise OnboardingError(f"only {len(flows)} of {count} discovery flows appeared: {flows}")


async def run(args: argparse.Namespace) -> None:
    """Onboard (or log in), then wait for the discovery flows."""
    base = args.url.rstrip("/")
    deadline = time.monotonic() + args.timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        steps = await wait_http(session, base, deadline)
        if any(s["step"] == "user" and s["done"] for s in steps):
            token = await login(session, base, args.username, args.password)
        else:
            token = await onboard(session, base, args.name, args.username, args.password)
        if not args.wait_flows:
            return
        flows = await wait_flows(session, base, token, args.wait_flows, deadline)
    for flow in flows:
        title = flow.get("context", {}).get("title_placeholders", {}).get("name", "?")
        print(f"  discovered: {title} (flow step {flow.get('step_id')})")  # noqa: T201


def main() -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description="Onboard the demo Home Assistant.")
    parser.add_argument("--url", default="http://127.0.0.1:8123")
    parser.add_argument("--name", default="Demo")
    parser.add_argument("--username", default="demo")
    parser.add_argument("--password", default="demo1234")
    parser.add_argument("--wait-flows", type=int, default=0)
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
