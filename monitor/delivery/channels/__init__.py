"""Channels: one module (or folder) per integration; each turns a Message into a send.

A channel knows nothing of the outbox: it sends or raises ``NotifyError(retryable, retry_after)``.
"""
