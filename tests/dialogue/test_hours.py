"""Office hours: open or not, next opening, how it is said."""

import datetime as dt

from dialogue import hours
from dialogue.content.schema import Hours

WEEK = Hours(ma="08:30-17:00", di="08:30-17:00", wo="08:30-17:00", do="08:30-20:00",
             vr="08:30-12:00")
TZ = "Europe/Amsterdam"
XMAS = [dt.date(2026, 12, 25)]


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute)  # December 2026: the 7th is a Monday


def test_open_within_hours_closed_outside():
    assert hours.is_open(WEEK, XMAS, at(7, 9), TZ)
    assert not hours.is_open(WEEK, XMAS, at(7, 8, 29), TZ)
    assert not hours.is_open(WEEK, XMAS, at(7, 17), TZ)  # closing time is exclusive
    assert hours.is_open(WEEK, XMAS, at(10, 19, 30), TZ)  # Thursday evening
    assert not hours.is_open(WEEK, XMAS, at(11, 13), TZ)  # Friday afternoon
    assert not hours.is_open(WEEK, XMAS, at(12, 10), TZ)  # Saturday


def test_holiday_is_closed_and_skipped():
    assert not hours.is_open(WEEK, XMAS, at(25, 10), TZ)
    nxt = hours.next_opening(WEEK, XMAS, at(24, 20), TZ)
    assert nxt is not None and nxt.date() == dt.date(2026, 12, 28)


def test_next_opening_and_spoken_moment():
    now = at(7, 18)
    nxt = hours.next_opening(WEEK, XMAS, now, TZ)
    assert nxt is not None and (nxt.day, nxt.hour, nxt.minute) == (8, 8, 30)
    assert hours.spoken_moment(nxt, now) == "morgen om 8.30 uur"
    friday = at(11, 13)
    monday = hours.next_opening(WEEK, XMAS, friday, TZ)
    assert hours.spoken_moment(monday, friday) == "maandag om 8.30 uur"


def test_timezone_aware_now_is_converted():
    utc = dt.datetime(2026, 12, 7, 7, 45, tzinfo=dt.UTC)  # 08:45 in Amsterdam
    assert hours.is_open(WEEK, XMAS, utc, TZ)


def test_spoken_hours_groups_equal_days():
    said = hours.spoken_hours(WEEK)
    assert said == ("maandag tot en met woensdag van 8.30 tot 17.00 uur, donderdag van 8.30 "
                    "tot 20.00 uur en vrijdag van 8.30 tot 12.00 uur")
    assert hours.spoken_hours(Hours()) == "op dit moment niet"
