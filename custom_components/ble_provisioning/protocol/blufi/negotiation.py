"""Security negotiation: the client's key pairs (made ahead of time) and the DH exchange.

V1 offers RFC 2409 group 2 (a safe prime) first. A device that refuses it with a DH error
(DH_PARAM_ERROR, READ_PARAM_ERROR or MAKE_PUBLIC_ERROR) gets one retry, on the same link, with
the legacy Espressif group. No stock ESP-IDF release needs this (its example reads p from the
client and checks only its length); it is for firmware with its own security handler that only
knows the Espressif prime. V2's group is fixed (ffdhe3072).

Key pairs are CPU work and run in an executor. :meth:`Negotiator.prepare` starts one as soon
as the security version is known (while connecting, when the caller already knows the BluFi
version), so it is ready when the link is up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging

from ..errors import ProvisioningError
from .const import (
    V2_MIN_VERSION,
    BlufiSecurity,
    ControlSubtype,
    DataSubtype,
    ErrorCode,
    FrameType,
    SecurityMode,
)
from .dh import V1_LEGACY_GROUP, V1_SAFE_GROUP, V2_GROUP, DhGroup
from .errors import BlufiDeviceSecurityError, BlufiSecurityError
from .link import BlufiLink, is_message
from .models import BlufiVersion
from .security import BlufiSession, session_for

_LOGGER = logging.getLogger(__name__)

SessionFactory = Callable[[DhGroup], BlufiSession]

#: Security mode the official clients set after negotiation: data checksum + data encryption.
SEC_MODE_AFTER_NEGOTIATION = SecurityMode.DATA_CHECK | SecurityMode.DATA_ENC

#: Device errors that mean "these DH parameters were refused" (V1: try the legacy group).
GROUP_REFUSED = frozenset(
    {ErrorCode.DH_PARAM_ERROR, ErrorCode.READ_PARAM_ERROR, ErrorCode.MAKE_PUBLIC_ERROR}
)

KEY_TIMEOUT_FACTOR = 2
"""The device-key wait is this many request timeouts: a V2 device without a big-number unit
computes its key pair in software (~12 s on an ESP32-C2)."""


def security_for_version(version: BlufiVersion) -> BlufiSecurity:
    """BluFi >= 1.4 negotiates security V2, older versions V1."""
    return BlufiSecurity.V2 if version.as_tuple >= V2_MIN_VERSION else BlufiSecurity.V1


def groups_for(security: BlufiSecurity) -> tuple[DhGroup, ...]:
    """Return the groups to offer, in order."""
    if security == BlufiSecurity.V2:
        return (V2_GROUP,)
    return (V1_SAFE_GROUP, V1_LEGACY_GROUP)


def _retrieve(future: asyncio.Future[BlufiSession]) -> None:
    if not future.cancelled():
        future.exception()


class Negotiator:
    """Runs the DH negotiation on a :class:`BlufiLink`."""

    def __init__(self, link: BlufiLink, factory: SessionFactory = session_for) -> None:
        """Negotiate on ``link``; ``factory`` makes the client's session for a group."""
        self._link = link
        self.factory = factory
        self._prepared: dict[DhGroup, asyncio.Future[BlufiSession]] = {}

    def prepare(self, security: BlufiSecurity) -> None:
        """Start making the key pair for ``security``'s first group (in an executor)."""
        if security == BlufiSecurity.NONE:
            return
        group = groups_for(security)[0]
        if group not in self._prepared:
            loop = asyncio.get_running_loop()
            self._prepared[group] = loop.run_in_executor(None, self.factory, group)

    def discard(self) -> None:
        """Forget key pairs made ahead (a key pair is used for one negotiation only)."""
        prepared, self._prepared = self._prepared, {}
        for future in prepared.values():
            if future.done():
                _retrieve(future)
            else:
                future.add_done_callback(_retrieve)

    async def _session(self, group: DhGroup) -> BlufiSession:
        future = self._prepared.pop(group, None)
        if future is None:
            future = asyncio.get_running_loop().run_in_executor(None, self.factory, group)
        try:
            return await future
        except ProvisioningError:
            raise
        except Exception as err:
            raise BlufiSecurityError(f"DH key generation failed: {err}") from err

    async def negotiate(self, security: BlufiSecurity) -> BlufiSecurity:
        """Negotiate ``security`` (V1 falls back to the legacy group once); return it."""
        if security == BlufiSecurity.NONE:
            return self._link.security
        groups = groups_for(security)
        for index, group in enumerate(groups):
            session = await self._session(group)
            try:
                await self._exchange(session)
            except BlufiDeviceSecurityError as err:
                if err.code not in GROUP_REFUSED or index + 1 == len(groups):
                    raise
                _LOGGER.debug(
                    "%s: device refused DH group %s (%s); retrying with %s",
                    self._link.name,
                    group.name,
                    err,
                    groups[index + 1].name,
                )
                continue
            _LOGGER.debug(
                "%s: security %s negotiated (%s)", self._link.name, security.name, group.name
            )
            break
        return security

    async def _exchange(self, session: BlufiSession) -> None:
        link = self._link
        len_packet, data_packet = session.neg_packets()
        reply = link.open_inbox(is_message(FrameType.DATA, DataSubtype.NEG))
        try:
            await link.send(
                FrameType.DATA, DataSubtype.NEG, len_packet, encrypt=False, checksum=False
            )
            await link.send(
                FrameType.DATA, DataSubtype.NEG, data_packet, encrypt=False, checksum=False
            )
            message = await link.receive(
                reply, link.timeout * KEY_TIMEOUT_FACTOR, "device public key"
            )
        finally:
            link.close_inbox(reply)
        loop = asyncio.get_running_loop()
        try:
            cipher = await loop.run_in_executor(None, session.derive, message.payload)
        except ProvisioningError:
            raise
        except Exception as err:  # pragma: no cover - defensive
            raise BlufiSecurityError("key derivation failed") from err
        link.set_cipher(cipher, session.security)
        await link.send(
            FrameType.CTRL,
            ControlSubtype.SET_SEC_MODE,
            bytes((SEC_MODE_AFTER_NEGOTIATION,)),
            encrypt=False,
            checksum=True,
        )
