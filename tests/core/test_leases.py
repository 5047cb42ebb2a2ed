"""Named leases (``app.core.leases``) on the test database, SQLite or PostgreSQL.

The functions commit on their own connections, so these tests use the ``app`` fixture
(not the rolled-back ``db`` session), a lease name of their own, and delete it afterwards.
"""

import datetime as dt
import threading
import uuid

import pytest
from sqlalchemy import delete

from app.core import leases
from app.core.extensions import db as _db

T0 = dt.datetime(2025, 4, 25, 0, 0, tzinfo=dt.UTC)
TTL = dt.timedelta(seconds=60)


@pytest.fixture
def engine(app):
    with app.app_context():
        yield _db.engine
        _db.engine.dispose()  # close the connections these tests opened (and committed on)


@pytest.fixture
def name(engine):
    name = f"test-{uuid.uuid4().hex[:12]}"
    yield name
    with engine.begin() as connection:
        connection.execute(delete(leases.Lease.__table__).where(
            leases.Lease.__table__.c.name == name))


def test_a_free_lease_is_acquired_and_stored(engine, name):
    assert leases.acquire(engine, name, "a", TTL, T0) == T0 + TTL
    state = leases.current(engine, name)
    assert (state.holder, state.acquired_at, state.heartbeat_at, state.expires_at) == (
        "a", T0, T0, T0 + TTL)


def test_a_held_lease_is_refused_with_its_holder_until_it_expires(engine, name):
    leases.acquire(engine, name, "host-a:11:aaaa", TTL, T0)
    with pytest.raises(leases.LeaseUnavailable, match="host-a:11:aaaa") as refused:
        leases.acquire(engine, name, "b", TTL, T0 + TTL - dt.timedelta(microseconds=1))
    assert refused.value.state.expires_at == T0 + TTL
    assert leases.acquire(engine, name, "b", TTL, T0 + TTL) == T0 + 2 * TTL  # expired
    assert leases.current(engine, name).holder == "b"


def test_the_holder_may_claim_again(engine, name):
    leases.acquire(engine, name, "a", TTL, T0)
    assert leases.acquire(engine, name, "a", TTL, T0 + dt.timedelta(seconds=5)) == \
        T0 + dt.timedelta(seconds=5) + TTL


def test_heartbeat_extends_and_a_taken_over_lease_is_not_renewed(engine, name):
    leases.acquire(engine, name, "a", TTL, T0)
    later = T0 + dt.timedelta(seconds=20)
    assert leases.renew(engine, name, "a", TTL, later) == later + TTL
    assert leases.current(engine, name).heartbeat_at == later
    with pytest.raises(leases.LeaseUnavailable):  # the renewal moved the expiry
        leases.acquire(engine, name, "b", TTL, T0 + TTL)
    leases.acquire(engine, name, "b", TTL, later + TTL)
    assert leases.renew(engine, name, "a", TTL, later + TTL) is None


def test_release_frees_the_lease_only_for_its_holder(engine, name):
    leases.acquire(engine, name, "a", TTL, T0)
    assert leases.release(engine, name, "b") is False
    assert leases.release(engine, name, "a") is True
    assert leases.current(engine, name) is None
    leases.acquire(engine, name, "b", TTL, T0)


def test_bad_arguments_are_refused(engine, name):
    with pytest.raises(ValueError):
        leases.acquire(engine, name, "a", dt.timedelta(0), T0)
    with pytest.raises(ValueError):
        leases.renew(engine, name, "a", TTL, dt.datetime(2025, 4, 25))


def test_holder_ids_name_host_and_process():
    host, pid, token = leases.new_holder_id().rsplit(":", 2)
    assert host and int(pid) > 0 and len(token) == 8
    assert leases.new_holder_id() != leases.new_holder_id()


def test_parallel_claimants_of_a_free_lease_have_one_winner(engine, name):
    claimants = 8
    start = threading.Barrier(claimants)
    outcomes: list = [None] * claimants

    def claim(index: int) -> None:
        start.wait()
        try:
            leases.acquire(engine, name, f"holder-{index}", TTL, T0)
            outcomes[index] = "won"
        except leases.LeaseUnavailable as error:
            outcomes[index] = error.state.holder

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(claimants)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("won") == 1
    winner = f"holder-{outcomes.index('won')}"
    assert set(outcomes) == {"won", winner}
    assert leases.current(engine, name).holder == winner
