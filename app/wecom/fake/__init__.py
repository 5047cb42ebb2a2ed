"""A fake WeCom server for tests and the demo: the same JSON over real HTTP on loopback.

``start_fake_wecom()`` serves a :class:`FakeWeCom` in a thread and returns it with its
``base_url``; tests drive its clock and its simulated staff and customers.
Specification: ../shared/wecom-api.md section 10.
"""

from app.wecom.fake.callbacks import CallbackDriver
from app.wecom.fake.server import FakeWeCom, start_fake_wecom

__all__ = ["CallbackDriver", "FakeWeCom", "start_fake_wecom"]
