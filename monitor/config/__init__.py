"""Settings: defaults < the YAML config file < ``MONITOR_*`` environment variables.

``sections`` holds the models of the file's sections, ``settings`` the whole, and ``load`` how
a file is found and read. Relative paths in the config file (feed ``path:``, ``rules_dir``) are
taken relative to the file itself. Channel settings live with the channels
(:mod:`monitor.delivery.channels.config`).
"""

from monitor.config.load import (
    config_path,
    did_you_mean_key,
    load_settings,
    sqlite_relative_to,
)
from monitor.config.sections import (
    DeliveryConfig,
    FeedConfig,
    HttpConfig,
    ReplicaConfig,
    RetentionConfig,
    RouteConfig,
    ServerConfig,
)
from monitor.config.settings import DEFAULT_CONFIG, DEFAULT_STORE, PACKAGED_RULES, Settings
from monitor.delivery.channels.config import ChannelConfig

__all__ = [
    "DEFAULT_CONFIG", "DEFAULT_STORE", "PACKAGED_RULES", "ChannelConfig", "DeliveryConfig",
    "FeedConfig", "HttpConfig", "ReplicaConfig", "RetentionConfig", "RouteConfig",
    "ServerConfig", "Settings", "config_path", "did_you_mean_key", "load_settings",
    "sqlite_relative_to",
]  # fmt: skip
