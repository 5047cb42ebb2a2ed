"""Issue 9: schedule kinds over Lunar New Year 2025, time zones and DST, the CLI."""

import datetime as dt
import json

import pytest

from app.broadcasts.schedules import ScheduleError, occurrences, parse_schedule

SHANGHAI = "Asia/Shanghai"
START = dt.datetime(2025, 1, 20, tzinfo=dt.timezone(dt.timedelta(hours=8)))
END = dt.datetime(2025, 2, 11, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # to 02-10 inclusive


def days(expression, timezone=SHANGHAI):
    found = occurrences(parse_schedule(expression), timezone, START, END)
    assert all(o.utcoffset() == dt.timedelta(hours=8) for o in found)
    return [o.strftime("%m-%d %H:%M") for o in found]


def test_trading_days_skip_the_spring_festival_closure_and_weekends():
    assert days("trading-days@08:30") == [
        "01-20 08:30", "01-21 08:30", "01-22 08:30", "01-23 08:30", "01-24 08:30",
        "01-27 08:30",  # SSE closed 01-28 … 02-04, and on the make-up Saturday/Sunday
        "02-05 08:30", "02-06 08:30", "02-07 08:30", "02-10 08:30"]


def test_hong_kong_trading_days_use_their_own_holidays():
    found = days("trading-days:XHKG@09:00")
    assert "01-28 09:00" in found  # HKEX open (half day) on Lunar New Year's Eve
    assert "01-29 09:00" not in found and "01-31 09:00" not in found
    assert "02-03 09:00" in found


def test_working_days_include_the_make_up_sunday_and_saturday():
    assert days("working-days@09:00") == [
        "01-20 09:00", "01-21 09:00", "01-22 09:00", "01-23 09:00", "01-24 09:00",
        "01-26 09:00",  # Sunday make-up working day 调休
        "01-27 09:00",
        "02-05 09:00", "02-06 09:00", "02-07 09:00",
        "02-08 09:00",  # Saturday make-up working day
        "02-10 09:00"]


def test_weekly_on_named_days():
    assert days("weekly:MON,THU@08:00") == [
        "01-20 08:00", "01-23 08:00", "01-27 08:00", "01-30 08:00", "02-03 08:00",
        "02-06 08:00", "02-10 08:00"]


@pytest.mark.parametrize("expression, expected", [
    ("monthly:1@10:00", ["02-01 10:00"]),
    ("monthly:-1@10:00", ["01-31 10:00"]),
    ("monthly:31@10:00", ["01-31 10:00"]),  # February has no 31st: skipped
    ("monthly:-3@10:00", ["01-29 10:00"]),
])
def test_monthly(expression, expected):
    assert days(expression) == expected


def test_once():
    assert days("once:2025-01-29T10:00") == ["01-29 10:00"]
    assert days("once:2025-03-01T10:00") == []


def test_cron_uses_crontab_weekday_numbers():
    assert days("cron:30 8 * * 0,6") == [  # Sunday and Saturday
        "01-25 08:30", "01-26 08:30", "02-01 08:30", "02-02 08:30", "02-08 08:30",
        "02-09 08:30"]
    assert len(days("cron:0 9 * * 1-5")) == 16


def test_after_add_is_parsed_but_fires_per_customer():
    schedule = parse_schedule("after-add:3@10:00")
    assert schedule.fires_per_customer and schedule.day == 3
    assert days("after-add:3@10:00") == []


@pytest.mark.parametrize("bad", ["daily@08:00", "weekly:MON@25:00", "weekly:XYZ@08:00",
                                 "monthly:0@08:00", "monthly:32@08:00", "once:2025-02-30T10:00",
                                 "cron:1 2 3", "cron:61 * * * *", "trading-days:XNYS@08:00",
                                 "after-add:x@10:00", ""])
def test_bad_expressions_are_refused_in_chinese(bad):
    with pytest.raises(ScheduleError) as error:
        parse_schedule(bad)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(error.value))


def test_a_plan_in_new_york_keeps_its_wall_clock_time_across_the_dst_change():
    start = dt.datetime(2025, 3, 6, tzinfo=dt.UTC)
    end = dt.datetime(2025, 3, 13, tzinfo=dt.UTC)
    found = occurrences(parse_schedule("weekly:MON,SUN@09:30"), "America/New_York", start, end)
    assert [o.isoformat() for o in found] == ["2025-03-09T09:30:00-04:00",
                                              "2025-03-10T09:30:00-04:00"]
    before = occurrences(parse_schedule("weekly:SUN@09:30"), "America/New_York",
                         dt.datetime(2025, 3, 1, tzinfo=dt.UTC), start)
    assert [o.astimezone(dt.UTC).hour for o in before] == [14]  # EST: 14:30 UTC
    assert [o.astimezone(dt.UTC).hour for o in found] == [13, 13]  # EDT: 13:30 UTC


def test_a_time_inside_the_dst_gap_moves_forward_by_the_gap():
    found = occurrences(parse_schedule("weekly:SUN@02:30"), "America/New_York",
                        dt.datetime(2025, 3, 9, tzinfo=dt.UTC),
                        dt.datetime(2025, 3, 10, tzinfo=dt.UTC))
    assert [o.isoformat() for o in found] == ["2025-03-09T03:30:00-04:00"]


def test_cli_prints_occurrences_as_json(runner):
    result = runner.invoke(args=["sop", "occurrences", "--schedule", "working-days@09:00",
                                 "--from", "2025-01-24", "--to", "2025-01-28"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == ["2025-01-24T09:00:00+08:00",
                                         "2025-01-26T09:00:00+08:00",
                                         "2025-01-27T09:00:00+08:00"]
    result = runner.invoke(args=["sop", "occurrences", "--schedule", "weekly:SUN@09:30",
                                 "--from", "2025-03-02", "--to", "2025-03-09",
                                 "--timezone", "America/New_York"])
    assert json.loads(result.output) == ["2025-03-02T09:30:00-05:00",
                                         "2025-03-09T09:30:00-04:00"]


def test_cli_refuses_a_bad_schedule(runner):
    result = runner.invoke(args=["sop", "occurrences", "--schedule", "daily", "--from",
                                 "2025-01-24", "--to", "2025-01-28"])
    assert result.exit_code == 2 and "无法识别的发送规则" in result.output
