"""Simulated staff and customers for the demo (``flask wecom fake``).

Every few seconds, staff confirm about 70 % of the mass messages and publish about 60 %
of the Moments posts that WeCom has dispatched to them, and some customers like or
comment; which ones is decided by a hash of the ids, so a demo replays the same way.
Optionally a few ``add_external_contact`` callbacks are sent to the app.
"""

from __future__ import annotations

import hashlib
import logging
import threading

import httpx

from app.wecom.fake.callbacks import CallbackDriver
from app.wecom.fake.server import FakeWeCom

logger = logging.getLogger(__name__)


def _share(*parts: str) -> int:
    """A stable number 0..99 from the ids."""
    return int(hashlib.sha256("\0".join(parts).encode()).hexdigest()[:8], 16) % 100


def simulate_once(fake: FakeWeCom, min_age_seconds: float = 30) -> dict:
    """One round of simulated staff and customer actions; returns what happened."""
    now, sent, published, reactions = fake.clock(), 0, 0, 0
    for msgid, msg in list(fake.msgs.items()):
        if (msg["task"]["status"] == 0 and not msg["cancelled"]
                and now - msg["create_time"] >= min_age_seconds and _share(msgid) < 70):
            failed = {e: 2 for e in msg["sends"] if _share(msgid, e) < 5}
            fake.staff_sends(msgid, at=now, failed=failed)
            sent += 1
    for moment_id, moment in list(fake.moments.items()):
        for userid, flag in list(moment["published"].items()):
            if flag or now - moment["create_time"] < min_age_seconds:
                continue
            if _share(moment_id, userid) < 60:
                fake.staff_publishes(moment_id, userid)
                published += 1
                for customer in moment["customers"][userid]:
                    roll = _share(moment_id, userid, customer)
                    if roll < 25:
                        fake.customer_reacts(moment_id, userid, customer, "like", at=now)
                        reactions += 1
                    if roll < 8:
                        fake.customer_reacts(moment_id, userid, customer, "comment", at=now)
                        reactions += 1
    return {"mass_sent": sent, "moments_published": published, "reactions": reactions}


def run_simulation(fake: FakeWeCom, stop: threading.Event, every_seconds: float = 10,
                   driver: CallbackDriver | None = None) -> None:
    """Simulate until ``stop`` is set; with ``driver``, send one new-contact callback a round."""
    rounds = 0
    while not stop.wait(every_seconds):
        rounds += 1
        summary = simulate_once(fake)
        if driver is not None and fake.staff:
            userid = sorted(fake.staff)[rounds % len(fake.staff)]
            (customer,) = fake.add_staff(userid, customers=1)
            try:
                delivery = driver.send(driver.event_xml("add_external_contact", userid,
                                                        customer))
                summary["callback_status"] = delivery.status
            except httpx.TransportError as error:  # the app is not up yet
                summary["callback_status"] = type(error).__name__
        logger.info("fake WeCom simulation round %s: %s", rounds, summary)
