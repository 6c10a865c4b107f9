"""Email: one multipart mail (text and HTML) per message over SMTP, threaded per story.

``config`` its settings, ``render`` the mail, ``transport`` the SMTP session.
"""

from monitor.delivery.channels.email.transport import EmailNotifier

__all__ = ["EmailNotifier"]
