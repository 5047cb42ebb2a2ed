"""A labelled synthetic population of adds (SYNTHETIC, not real data) for the gaming flags.

``flask demo adds --staff N --seed S --out DIR`` writes ``customers.csv``, ``contacts.csv``
and ``verifications.csv`` (the import formats) and ``labels.csv`` (``external_userid, staff,
add_time, label``: the gaming each add was generated with, ``normal`` otherwise) for April
2025, Beijing time. The staff are synthetic users ``syn-rm-0001``… in the branch ``SYN``
(浙江), created by :func:`ensure_synthetic_staff` as demo accounts.

Ordinary behaviour that must not be flagged is mixed in on purpose: customers verifying late
or never, customers who are WeCom users of ordinary companies, a branch event where one RM
adds a dozen customers in an hour who then verify, customers followed by two staff members.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from app.core.extensions import db
from app.org.models import Branch, BranchLevel, Role, User
from app.org.services import set_branch_path

SYNTHETIC_BRANCH = "SYN"
MONTH_START = dt.datetime(2025, 4, 1, 0, 0)
SEGMENTS = [("private", 0.05), ("vip", 0.2), ("payroll", 0.25), ("mass", 0.5)]
OTHER_BANKS = ["工商银行杭州分行", "建设银行浙江省分行", "萧山农商银行", "招商银行杭州分行",
               "杭州联合农村信用合作联社"]
ORDINARY_CORPS = ["杭州云栖科技有限公司", "浙江某某贸易有限公司", "西湖区第一中学"]
FAR_PROVINCES = ["广西", "贵州", "云南", "甘肃", "黑龙江"]
LABELS = ("cross_bank", "bought_followers", "re_add", "colleague")


@dataclass
class Population:
    """Rows of the four files, as lists of dicts keyed by the canonical headers."""

    customers: list[dict] = field(default_factory=list)
    contacts: list[dict] = field(default_factory=list)
    verifications: list[dict] = field(default_factory=list)
    labels: list[dict] = field(default_factory=list)


def _fmt(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


class _Generator:
    def __init__(self, staff: list[str], rng: random.Random, start: dt.datetime,
                 days: int) -> None:
        self.staff, self.rng, self.out = staff, rng, Population()
        self.start, self.days, self.serial = start, days, 0

    def _id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial:08d}"

    def _moment(self, day: int | None = None) -> dt.datetime:
        day = day if day is not None else self.rng.randint(0, self.days - 1)
        return self.start + dt.timedelta(days=day, hours=self.rng.randint(9, 18),
                                          minutes=self.rng.randint(0, 59),
                                          seconds=self.rng.randint(0, 59))

    def add(self, rm: str, at: dt.datetime, label: str, *, ext: str | None = None,
            customer: str | None = None, verify_after: dt.timedelta | None = None,
            province: str = "浙江", contact_type: int = 1, corp: str = "",
            removed: dt.datetime | None = None) -> str:
        ext = ext or self._id("wmsyn")
        self.out.contacts.append({
            "external_userid": ext, "staff": rm, "add_time": _fmt(at),
            "add_way": self.rng.choice([1, 2, 3]), "contact_type": contact_type,
            "corp_name": corp, "removed_at": _fmt(removed) if removed else ""})
        if customer is not None and verify_after is not None:
            self.out.verifications.append({
                "external_userid": ext, "customer_id": customer,
                "method": self.rng.choice(["link", "app"]), "verified_at": _fmt(at + verify_after),
                "ip_province": province})
        self.out.labels.append({"external_userid": ext, "staff": rm, "add_time": _fmt(at),
                                "label": label})
        return ext

    def book(self, rm: str, size: int) -> list[str]:
        refs = []
        for _ in range(size):
            ref = self._id("SYNC")
            segment = self.rng.choices([s for s, _ in SEGMENTS], [w for _, w in SEGMENTS])[0]
            self.out.customers.append({
                "customer_id": ref, "rm": rm, "segment": segment,
                "has_account": "是" if self.rng.random() < 0.95 else "否", "province": "浙江",
                "aum_cny": round(self.rng.lognormvariate(11, 1.5), 2)})
            refs.append(ref)
        return refs

    def normal_adds(self, rm: str, customers: list[str],
                    count: int) -> list[tuple[str, str, dt.datetime]]:
        verified = []
        for customer in self.rng.sample(customers, count):
            at, roll = self._moment(), self.rng.random()
            delay = (dt.timedelta(hours=self.rng.randint(0, 72)) if roll < 0.75 else
                     dt.timedelta(days=self.rng.randint(8, 12)) if roll < 0.85 else None)
            ordinary_corp = self.rng.random() < 0.05
            ext = self.add(rm, at, "normal", customer=customer, verify_after=delay,
                           province="浙江" if self.rng.random() < 0.9 else "上海",
                           contact_type=2 if ordinary_corp else 1,
                           corp=self.rng.choice(ORDINARY_CORPS) if ordinary_corp else "")
            if delay is not None and delay.days < 7:
                verified.append((ext, customer, at))
        return verified

    def branch_event(self, rm: str, customers: list[str]) -> None:
        start = self._moment()
        for i, customer in enumerate(self.rng.sample(customers, 12)):
            self.add(rm, start + dt.timedelta(minutes=4 * i), "normal", customer=customer,
                     verify_after=dt.timedelta(minutes=30))

    def cross_bank(self, rm: str) -> None:
        for day in self.rng.sample(range(self.days), self.rng.randint(2, 4)):
            self.add(rm, self._moment(day), "cross_bank", contact_type=2,
                     corp=self.rng.choice(OTHER_BANKS))

    def bought(self, rm: str) -> None:
        start = self._moment()
        for i in range(self.rng.randint(12, 20)):
            at = start + dt.timedelta(seconds=self.rng.randint(20, 100) * i)
            if self.rng.random() < 0.9:
                self.add(rm, at, "bought_followers")
            else:  # verified, but as somebody who is not a customer, far away
                self.add(rm, at, "bought_followers", customer=self._id("NOBODY"),
                         verify_after=dt.timedelta(minutes=5),
                         province=self.rng.choice(FAR_PROVINCES))

    def re_add(self, rm: str, verified: list[tuple[str, str, dt.datetime]]) -> None:
        early = [v for v in verified if v[2] < self.start + dt.timedelta(days=self.days // 2)]
        if not early:
            return
        ext, customer, at = self.rng.choice(early)
        removed = at + dt.timedelta(days=self.rng.randint(1, 4))
        self.out.contacts = [c if not (c["external_userid"] == ext and c["staff"] == rm)
                             else {**c, "removed_at": _fmt(removed)} for c in self.out.contacts]
        self.add(rm, removed + dt.timedelta(days=self.rng.randint(1, 5)), "re_add", ext=ext)


def generate(staff: list[str], seed: int, *, start: dt.datetime = MONTH_START, days: int = 28,
             book_size: int = 40, adds_per_rm: int = 15) -> Population:
    """A labelled population for ``staff`` (usernames), deterministic for ``seed``.

    :param start: naive Beijing wall time where the adds begin (default 1 April 2025).
    :param days: days over which the adds spread.
    :param book_size: customers per RM.
    :param adds_per_rm: ordinary adds per RM (of their own customers).
    """
    rng = random.Random(seed)
    gen = _Generator(staff, rng, start, days)
    books = {rm: gen.book(rm, book_size) for rm in staff}
    for rm in staff:
        verified = gen.normal_adds(rm, books[rm], adds_per_rm)
        if rng.random() < 0.1:
            gen.branch_event(rm, books[rm])
        if rng.random() < 0.2:
            gen.cross_bank(rm)
        if rng.random() < 0.15:
            gen.bought(rm)
        if rng.random() < 0.15:
            gen.re_add(rm, verified)
        if rng.random() < 0.1:  # a customer also followed by a colleague of the RM
            other = rng.choice(staff)
            if other != rm:
                gen.add(other, gen._moment(), "normal", customer=rng.choice(books[rm]),
                        verify_after=dt.timedelta(hours=2))
    for _ in range(max(1, len(staff) // 10)):  # colleagues adding each other for the quota
        colleague = gen._id("wmcol")
        for rm in rng.sample(staff, min(len(staff), 5)):
            gen.add(rm, gen._moment(), "colleague", ext=colleague)
    return gen.out


def write_population(population: Population, out: Path) -> dict[str, int]:
    """Write the four CSV files (UTF-8) into ``out``; returns rows per file name."""
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name in ("customers", "contacts", "verifications", "labels"):
        rows = getattr(population, name)
        with (out / f"{name}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        counts[name] = len(rows)
    return counts


def ensure_synthetic_staff(count: int, password_hash: str) -> list[str]:
    """Create (once) the synthetic branch ``SYN`` and users ``syn-rm-0001``…; their usernames.

    They are demo accounts (``is_demo``), so production refuses to start while they exist.
    """
    branch = db.session.scalar(select(Branch).where(Branch.code == SYNTHETIC_BRANCH))
    if branch is None:
        parent = db.session.scalar(select(Branch).where(Branch.parent_id.is_(None))
                                   .order_by(Branch.id))
        branch = Branch(code=SYNTHETIC_BRANCH, name="合成数据支行（SYNTHETIC）",
                        level=BranchLevel.sub_branch if parent else BranchLevel.hq,
                        parent=parent, province_code="33")
        db.session.add(branch)
        set_branch_path(branch)
    names = [f"syn-rm-{i:04d}" for i in range(1, count + 1)]
    existing = set(db.session.scalars(select(User.username).where(User.username.in_(names))))
    for name in names:
        if name not in existing:
            db.session.add(User(username=name, display_name=f"合成客户经理{name[-4:]}",
                                password_hash=password_hash, role=Role.frontline,
                                branch=branch, is_demo=True))
    db.session.flush()
    return names
