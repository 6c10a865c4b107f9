"""Generic webhook: the message as signed JSON, for anything else (Teams, PagerDuty, a SIEM).

``config`` its settings, ``render`` the body, ``signature`` the signing (and checking, for
receivers), ``transport`` the POST.
"""

from monitor.delivery.channels.webhook.transport import WebhookNotifier

__all__ = ["WebhookNotifier"]
