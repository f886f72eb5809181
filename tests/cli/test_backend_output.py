"""The console command's backend loading and progress output, without a radio."""

from __future__ import annotations

import io

import pytest

from custom_components.ble_provisioning.protocol.cli.backend import Backend, load_factory
from custom_components.ble_provisioning.protocol.cli.output import Progress
from custom_components.ble_provisioning.protocol.slots import adapter_of


async def test_no_backend_is_the_platform_default() -> None:
    """Without --backend: a factory yielding nothing, so bleak's own backends are used."""
    async with load_factory(None)() as provided:
        assert provided is None
    backend = Backend.of(provided)
    assert (backend.client, backend.scanner, backend.adapter_key) == (None, None, adapter_of)
    async with load_factory("")() as again:  # an empty --backend is the default too
        assert again is None


@pytest.mark.parametrize("spec", ["bench.cli_backend", ":factory", "bench.cli_backend:"])
def test_a_backend_must_be_module_colon_factory(spec: str) -> None:
    with pytest.raises(ValueError, match="MODULE:FACTORY"):
        load_factory(spec)


def test_progress_when_quiet_or_empty() -> None:
    """``--quiet`` (or nothing to do) prints nothing, yet still counts."""
    quiet = io.StringIO()
    progress = Progress(2, quiet, enabled=False)
    progress.advance("a", ok=True, detail="connected")
    progress.advance("b", ok=False, detail="timeout")
    assert (progress.done, progress.failed, quiet.getvalue()) == (2, 1, "")
    empty = io.StringIO()
    Progress(0, empty)
    assert empty.getvalue() == ""


def test_progress_lines_when_not_a_terminal() -> None:
    stream = io.StringIO()
    progress = Progress(2, stream)
    progress.advance("BLUFI_DEVICE", ok=True, detail="connected (1.2 s)")
    assert stream.getvalue() == "[1/2] BLUFI_DEVICE: connected (1.2 s)\n"
