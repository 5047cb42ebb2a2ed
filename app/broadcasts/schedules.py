"""Schedule expressions of SOP plans and their occurrences, in the plan's own time zone.

Syntax (``HH:MM`` is wall-clock time in the plan's time zone):

- ``trading-days@HH:MM``: sessions of the plan's exchange calendar (``XSHG`` by default,
  exchange-calendars; ``trading-days:XHKG@HH:MM`` names another exchange);
- ``working-days@HH:MM``: China's working days (public holidays off, 调休 make-up days on),
  from the chinese-calendar package;
- ``weekly:MON[,THU]@HH:MM``: these weekdays (MON TUE WED THU FRI SAT SUN);
- ``monthly:N@HH:MM``: day N of each month (1..31; a month without day N is skipped),
  ``-1`` the last day, ``-2`` the one before;
- ``once:YYYY-MM-DDTHH:MM``: one occurrence;
- ``cron:<minute> <hour> <day> <month> <day-of-week>``: a crontab line (APScheduler's
  ``CronTrigger.from_crontab``; day-of-week 0 or ``sun`` is Sunday);
- ``after-add:N@HH:MM``: day N after a customer was added (welcome sequences). It has no
  calendar occurrences of its own (``occurrences`` gives none); the plan is checked daily at
  ``HH:MM`` and welcomes the contacts added N days earlier (``app.broadcasts.welcome``).

A wall-clock time that does not exist on a date (a daylight-saving gap) is moved forward by
the gap; an ambiguous one (the repeated hour) is its first occurrence.
"""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import chinese_calendar
from apscheduler.triggers.cron import CronTrigger

from app.broadcasts.calendars import runs_on

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_AT = r"@(?P<hh>[01]\d|2[0-3]):(?P<mm>[0-5]\d)"
_PATTERNS = {
    "trading-days": re.compile(r"trading-days(?::(?P<exchange>[A-Z]{4}))?" + _AT),
    "working-days": re.compile(r"working-days" + _AT),
    "weekly": re.compile(r"weekly:(?P<days>[A-Z]{3}(?:,[A-Z]{3})*)" + _AT),
    "monthly": re.compile(r"monthly:(?P<day>-?\d{1,2})" + _AT),
    "once": re.compile(r"once:(?P<at>\d{4}-\d{2}-\d{2}T\d{2}:\d{2})"),
    "cron": re.compile(r"cron:(?P<fields>\S+(?: \S+){4})"),
    "after-add": re.compile(r"after-add:(?P<days>\d{1,3})" + _AT),
}
EXCHANGES = ("XSHG", "XHKG")


class ScheduleError(ValueError):
    """A schedule expression that cannot be parsed; the message is Chinese."""


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule expression (``kind`` is one of the keys of the syntax above)."""

    expression: str
    kind: str
    time: dt.time | None = None
    exchange: str = "XSHG"
    weekdays: tuple[int, ...] = ()
    day: int = 0
    at: dt.datetime | None = None
    cron: str = ""

    @property
    def fires_per_customer(self) -> bool:
        """True for ``after-add``: occurrences come from customers' add dates, not a calendar."""
        return self.kind == "after-add"


def parse_schedule(expression: str) -> Schedule:
    """Parse a schedule expression (syntax in this module's docstring).

    :raises ScheduleError: unknown kind, bad time, weekday, day of month, exchange, or
        cron fields; the message says what is wrong, in Chinese.
    """
    text = expression.strip()
    kind = text.split(":", 1)[0].split("@", 1)[0]
    pattern = _PATTERNS.get(kind)
    match = pattern.fullmatch(text) if pattern else None
    if match is None:
        raise ScheduleError(f"无法识别的发送规则「{expression}」（写法见 README「发送规则」）")
    parts = match.groupdict()
    time = dt.time(int(parts["hh"]), int(parts["mm"])) if parts.get("hh") else None
    if kind == "trading-days":
        exchange = parts["exchange"] or "XSHG"
        if exchange not in EXCHANGES:
            raise ScheduleError(f"未知的交易所日历 {exchange}（可用：{'、'.join(EXCHANGES)}）")
        return Schedule(text, kind, time, exchange=exchange)
    if kind == "weekly":
        days = parts["days"].split(",")
        unknown = [d for d in days if d not in WEEKDAYS]
        if unknown:
            raise ScheduleError(f"未知的星期 {'、'.join(unknown)}（用 MON … SUN）")
        return Schedule(text, kind, time, weekdays=tuple(sorted({WEEKDAYS.index(d)
                                                                 for d in days})))
    if kind == "monthly":
        day = int(parts["day"])
        if day == 0 or not -31 <= day <= 31:
            raise ScheduleError("每月的日期应为 1 到 31，或 -1（最后一天）到 -31")
        return Schedule(text, kind, time, day=day)
    if kind == "once":
        try:
            at = dt.datetime.fromisoformat(parts["at"])
        except ValueError:
            raise ScheduleError(f"日期时间无效：{parts['at']}") from None
        return Schedule(text, kind, at.time(), at=at)
    if kind == "cron":
        try:
            cron_trigger(parts["fields"], "UTC")
        except ValueError as error:
            raise ScheduleError(f"cron 表达式无效：{error}") from None
        return Schedule(text, kind, cron=parts["fields"])
    if kind == "after-add":
        return Schedule(text, kind, time, day=int(parts["days"]))
    return Schedule(text, kind, time)


def check_timezone(name: str) -> ZoneInfo:
    """The ``ZoneInfo`` of an IANA time zone name.

    :raises ScheduleError: unknown time zone.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"未知的时区 {name}") from None


def occurrences(schedule: Schedule, timezone: str, start: dt.datetime,
                end: dt.datetime) -> list[dt.datetime]:
    """Occurrences of ``schedule`` in ``[start, end)``, aware in ``timezone``, ascending.

    :param start: aware instant (any zone).
    :param end: aware instant (any zone).
    :returns: aware datetimes in ``timezone`` (``[]`` for ``after-add``).
    :raises ScheduleError: unknown time zone.
    """
    zone = check_timezone(timezone)
    if schedule.fires_per_customer:
        return []
    if schedule.kind == "cron":
        return list(_cron(schedule.cron, zone, start, end))
    if schedule.kind == "once":
        instants = [_local(schedule.at.date(), schedule.time, zone)]
    else:
        first = start.astimezone(zone).date() - dt.timedelta(days=1)
        last = end.astimezone(zone).date() + dt.timedelta(days=1)
        instants = [_local(day, schedule.time, zone) for day in _dates(first, last)
                    if _fires_on(schedule, day)]
    return [instant for instant in instants if start <= instant < end]


def _dates(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def _fires_on(schedule: Schedule, day: dt.date) -> bool:
    if schedule.kind == "trading-days":
        return runs_on(schedule.exchange, day)
    if schedule.kind == "working-days":
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:  # a year the package has no holiday data for
            return day.weekday() < 5
    if schedule.kind == "weekly":
        return day.weekday() in schedule.weekdays
    if schedule.kind == "monthly":
        last = month_calendar.monthrange(day.year, day.month)[1]
        wanted = schedule.day if schedule.day > 0 else last + 1 + schedule.day
        return day.day == wanted
    raise AssertionError(schedule.kind)


def _local(day: dt.date, time: dt.time, zone: ZoneInfo) -> dt.datetime:
    """Wall-clock ``time`` on ``day`` in ``zone``; a time in a DST gap moves forward by the gap."""
    naive = dt.datetime.combine(day, time)
    local = naive.replace(tzinfo=zone)
    roundtrip = local.astimezone(dt.UTC).astimezone(zone)
    # a time in the gap (fold=0: the offset before it) comes back moved forward by the gap
    return roundtrip if roundtrip.replace(tzinfo=None) != naive else local


_CRON_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def cron_trigger(fields: str, zone) -> CronTrigger:
    """APScheduler trigger of a crontab line, with crontab's day-of-week numbers (0/7 = Sunday).

    APScheduler numbers weekdays from Monday = 0; numeric day-of-week fields are rewritten
    to names first. When both day of month and day of week are restricted, both must match.

    :raises ValueError: invalid fields.
    """
    minute, hour, day, month, day_of_week = fields.split()
    return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                       day_of_week=_crontab_weekdays(day_of_week), timezone=zone)


def _crontab_weekdays(field: str) -> str:
    if not re.fullmatch(r"[\d,\-/*]+", field) or field == "*":
        return field  # names (mon-fri) or *: same meaning in both
    days: set[int] = set()
    for token in field.split(","):
        span, _, step = token.partition("/")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            first, last = (int(x) for x in span.split("-", 1))
        else:
            first = last = int(span)
        if not 0 <= first <= last <= 7:
            raise ValueError(f"day of week {token!r} out of range 0-7")
        days.update(range(first, last + 1, int(step or 1)))
    return ",".join(dict.fromkeys(_CRON_DAY_NAMES[d] for d in sorted(days)))


def _cron(fields: str, zone: ZoneInfo, start: dt.datetime, end: dt.datetime):
    trigger = cron_trigger(fields, zone)
    previous, now = None, start.astimezone(zone)
    fire = trigger.get_next_fire_time(previous, now)
    while fire is not None and fire < end:
        if fire >= start:
            yield fire.astimezone(zone)
        previous, now = fire, fire + dt.timedelta(microseconds=1)
        fire = trigger.get_next_fire_time(previous, now)


def schedule_for(calendar: str, send_time: dt.time) -> str:
    """The schedule expression of a plan given as a calendar code and a send time.

    ``XSHG`` → ``trading-days@HH:MM``, ``XHKG`` → ``trading-days:XHKG@HH:MM``, ``weekdays``
    → ``weekly:MON,TUE,WED,THU,FRI@HH:MM``, ``daily`` → ``cron:MM HH * * *``.
    """
    at = f"{send_time.hour:02d}:{send_time.minute:02d}"
    return {"XSHG": f"trading-days@{at}", "XHKG": f"trading-days:XHKG@{at}",
            "weekdays": f"weekly:MON,TUE,WED,THU,FRI@{at}"}.get(
                calendar, f"cron:{send_time.minute} {send_time.hour} * * *")


def occurrences_on(expression: str, timezone: str, day: dt.date) -> list[dt.datetime]:
    """Occurrences of a schedule expression on calendar date ``day`` of ``timezone``.

    :returns: aware datetimes in ``timezone``, ascending.
    :raises ScheduleError: invalid expression or time zone.
    """
    zone = check_timezone(timezone)
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return occurrences(parse_schedule(expression), timezone, start, end)
