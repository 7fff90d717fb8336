"""The channel tests' shared world (``tests/support/channel_world.py``): ``timers``, ``fake``
(the messaging platforms), ``sink`` (SMTP) and ``shop``, set per module by ``shop_settings``."""

from tests.support.channel_world import fake, shop, shop_settings, sink, timers

__all__ = ["fake", "shop", "shop_settings", "sink", "timers"]
