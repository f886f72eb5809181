"""Finish Home Assistant's onboarding over its HTTP API and wait for the demo's discoveries.

Used by scripts/develop right after `hass` starts (the `core_config` step is already marked done
in `.storage/onboarding` before the first start, so HA never starts the onboarding flows whose
offline pip installs delay start-up). Standard library only: it runs with any Python 3.11+.

    python dev/onboard.py --url http://127.0.0.1:8123 --username demo --password demo1234 \
        --wait-flows 3 --timeout 120
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any
import urllib.error
import urllib.parse
import urllib.request

DOMAIN = "ble_provisioning"


class OnboardingError(RuntimeError):
    """Onboarding did not complete."""


def _request(
    url: str,
    *,
    data: dict[str, Any] | None = None,
    form: dict[str, str] | None = None,
    token: str | None = None,
    timeout: float = 10.0,
) -> tuple[int, Any]:
    headers: dict[str, str] = {}
    body: bytes | None = None
    if data is not None:
        body = json.dumps(data).encode()
        headers["Content-Type"] = "application/json"
    elif form is not None:
        body = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310
            raw = resp.read()
            status = resp.status
    except urllib.error.HTTPError as err:
        raw = err.read()
        status = err.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def wait_http(base: str, deadline: float) -> list[dict[str, Any]]:
    """Wait until HA answers /api/onboarding; return the step list."""
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            status, steps = _request(f"{base}/api/onboarding", timeout=2)
            if status == 200 and isinstance(steps, list):
                return steps
        except (OSError, urllib.error.URLError) as err:
            last = err
        time.sleep(0.2)
    raise OnboardingError(f"Home Assistant did not answer at {base}: {last}")


def onboard(base: str, name: str, username: str, password: str) -> str:
    """Create the owner, finish every remaining step; return an access token."""
    client_id = f"{base}/"
    status, resp = _request(
        f"{base}/api/onboarding/users",
        data={
            "client_id": client_id,
            "name": name,
            "username": username,
            "password": password,
            "language": "en",
        },
    )
    if status != 200:
        raise OnboardingError(f"user step: HTTP {status}: {resp}")
    status, tokens = _request(
        f"{base}/auth/token",
        form={"grant_type": "authorization_code", "code": resp["auth_code"], "client_id": client_id},
    )
    if status != 200:
        raise OnboardingError(f"token: HTTP {status}: {tokens}")
    token: str = tokens["access_token"]
    for step, payload in (
        ("core_config", {}),
        ("analytics", {}),
        ("integration", {"client_id": client_id, "redirect_uri": f"{base}/?auth_callback=1"}),
    ):
        status, resp = _request(f"{base}/api/onboarding/{step}", data=payload, token=token)
        if status not in (200, 403):  # 403: step already done (core_config is pre-seeded)
            raise OnboardingError(f"{step} step: HTTP {status}: {resp}")
    return token


def login(base: str, username: str, password: str) -> str:
    """Log in with the login flow API (used when onboarding was already done)."""
    client_id = f"{base}/"
    status, flow = _request(
        f"{base}/auth/login_flow",
        data={
            "client_id": client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": f"{base}/?auth_callback=1",
        },
    )
    if status != 200:
        raise OnboardingError(f"login flow: HTTP {status}: {flow}")
    status, result = _request(
        f"{base}/auth/login_flow/{flow['flow_id']}",
        data={"client_id": client_id, "username": username, "password": password},
    )
    if status != 200 or result.get("type") != "create_entry":
        raise OnboardingError(f"login: HTTP {status}: {result}")
    status, tokens = _request(
        f"{base}/auth/token",
        form={"grant_type": "authorization_code", "code": result["result"], "client_id": client_id},
    )
    if status != 200:
        raise OnboardingError(f"token: HTTP {status}: {tokens}")
    return str(tokens["access_token"])


def wait_flows(base: str, token: str, count: int, deadline: float) -> list[dict[str, Any]]:
    """Wait until `count` discovery flows of the integration are in progress."""
    flows: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        status, resp = _request(f"{base}/api/config/config_entries/flow", token=token)
        if status == 200 and isinstance(resp, list):
            flows = [f for f in resp if f.get("handler") == DOMAIN]
            if len(flows) >= count:
                return flows
        time.sleep(0.2)
    raise OnboardingError(f"only {len(flows)} of {count} discovery flows appeared: {flows}")


def main() -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", default="http://127.0.0.1:8123")
    parser.add_argument("--name", default="Demo")
    parser.add_argument("--username", default="demo")
    parser.add_argument("--password", default="demo1234")
    parser.add_argument("--wait-flows", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    base = args.url.rstrip("/")
    deadline = time.monotonic() + args.timeout
    try:
        steps = wait_http(base, deadline)
        user_done = any(s["step"] == "user" and s["done"] for s in steps)
        if user_done:
            token = login(base, args.username, args.password)
        else:
            token = onboard(base, args.name, args.username, args.password)
        flows = wait_flows(base, token, args.wait_flows, deadline) if args.wait_flows else []
    except OnboardingError as err:
        print(f"onboarding failed: {err}", file=sys.stderr)
        return 1
    for flow in flows:
        title = flow.get("context", {}).get("title_placeholders", {}).get("name", "?")
        print(f"  discovered: {title} (step {flow.get('step_id')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
