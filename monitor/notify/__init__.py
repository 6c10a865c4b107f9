"""Notification: routes pick channels, the outbox persists, notifiers deliver."""
