"""Delivery: the outbox, sent through small composed stages to each channel.

In: outbox rows written by ``alerting``. Out: messages sent by the channels in ``channels/``,
and each row's state (sent, retry later, dead) recorded back in the store.
"""
