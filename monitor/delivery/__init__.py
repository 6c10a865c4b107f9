"""Delivery: the outbox, sent through small composed stages to each channel.

In: outbox rows written by ``alerting`` (through the writing stages: dedup, mute, group). Out:
messages sent by the channels in ``channels/``, and each row's state (sent, retry later, failed
for good) recorded back in the store.

    states.py    the outbox's states and the moves allowed between them
    stages/      one concern a module: dedup, mute, group (writing); hold, order, send,
                 retry, record (sending); a Chain runs them in order
    outbox.py    deliver(): claim due rows, send each channel's in order, channels side by side
    fanout.py    a thread per channel, so a slow one holds up no other
    attempt.py   what a send carries through the stages, and the batch the channels share
    message.py   a row as the message a channel sends
    render.py    an alert as plain text, for the console and the command line
    channels/    slack, email, webhook, console: each its config, render and transport
"""
