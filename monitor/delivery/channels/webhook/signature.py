"""Signing a webhook request, and checking one: standard library only, for receivers to copy.

``X-Monitor-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`` proves who
sent it and when (Slack's and Stripe's scheme): a receiver that checks the time with
:func:`verify_signature` refuses a captured request replayed later, which a signature of the body
alone cannot tell from the original. ``X-Signature-256: sha256=<hex HMAC-SHA256 of the raw
body>`` (GitHub's scheme) is still sent so receivers written for it keep working; it is
deprecated, since it carries no time.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Signature-256"  # deprecated: no timestamp, so replayable
TIMESTAMPED_HEADER = "X-Monitor-Signature"
TOLERANCE = 300  # seconds a signed request stays acceptable: clock skew plus transit


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def timestamped_signature(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Monitor-Signature`` value: the time is signed with the body, so neither can be
    changed alone."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify_signature(
    secret: str, header: str, body: bytes, now: float | None = None, tolerance: float = TOLERANCE
) -> bool:
    """Whether ``header`` (``X-Monitor-Signature``) signs ``body`` with ``secret`` within
    ``tolerance`` seconds of ``now``: for receivers, written to be copied (standard library
    only).

    ``body`` must be the raw bytes received, before any JSON parsing. A request signed too long
    ago (or too far ahead: a clock off by more than the tolerance) is refused, so a captured
    request cannot be replayed later; within the window, drop repeats by the body's ``key``.
    Several ``v1`` values are allowed (one per secret while a secret is rotated); one must
    match, compared in constant time.
    """
    stamps: list[str] = []
    signatures: list[str] = []
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t":
            stamps.append(value)
        elif name == "v1":
            signatures.append(value)
    if len(stamps) != 1 or not signatures:
        return False
    stamp = stamps[0]
    if not (stamp.isascii() and stamp.isdigit()):
        return False
    now = time.time() if now is None else now
    if abs(now - int(stamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    # As bytes: compare_digest refuses a str that is not ASCII, and the header is the sender's.
    return any(hmac.compare_digest(expected.encode(), v.encode()) for v in signatures)
