"""Opening and office hours: is it open now, when does it open next, how to say it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from dialogue.content.schema import DAYS, Hours

DAY_NAMES = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")


def _span(hours: Hours, weekday: int) -> tuple[dt.time, dt.time] | None:
    value = getattr(hours, DAYS[weekday])
    if value == "gesloten":
        return None
    start, end = value.split("-")
    return dt.time.fromisoformat(start), dt.time.fromisoformat(end)


def local(now: dt.datetime, timezone: str) -> dt.datetime:
    """`now` in the municipality's time zone (naive datetimes are taken as local)."""
    tz = ZoneInfo(timezone)
    return now.replace(tzinfo=tz) if now.tzinfo is None else now.astimezone(tz)


def is_open(hours: Hours, holidays: list[dt.date], now: dt.datetime, timezone: str) -> bool:
    t = local(now, timezone)
    if t.date() in holidays:
        return False
    span = _span(hours, t.weekday())
    return span is not None and span[0] <= t.time() < span[1]


def next_opening(hours: Hours, holidays: list[dt.date], now: dt.datetime,
                 timezone: str) -> dt.datetime | None:
    """The next moment the hours open (within two weeks), or None."""
    t = local(now, timezone)
    for days in range(15):
        day = (t + dt.timedelta(days=days)).date()
        span = _span(hours, day.weekday())
        if span is None or day in holidays:
            continue
        start = dt.datetime.combine(day, span[0], tzinfo=t.tzinfo)
        if start > t:
            return start
    return None


def _clock(t: dt.time) -> str:
    return f"{t.hour}.{t.minute:02d}"


def spoken_hours(hours: Hours) -> str:
    """'maandag tot en met vrijdag van 8.30 tot 17.00 uur' — equal days grouped."""
    groups: list[tuple[int, int, str]] = []
    for i, key in enumerate(DAYS):
        value = getattr(hours, key)
        if groups and groups[-1][2] == value and groups[-1][1] == i - 1:
            groups[-1] = (groups[-1][0], i, value)
        else:
            groups.append((i, i, value))
    parts = []
    for first, last, value in groups:
        if value == "gesloten":
            continue
        start, end = value.split("-")
        days = DAY_NAMES[first] if first == last else (
            f"{DAY_NAMES[first]} en {DAY_NAMES[last]}" if last == first + 1
            else f"{DAY_NAMES[first]} tot en met {DAY_NAMES[last]}")
        parts.append(f"{days} van {_clock(dt.time.fromisoformat(start))} "
                     f"tot {_clock(dt.time.fromisoformat(end))} uur")
    if not parts:
        return "op dit moment niet"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " en " + parts[-1]


def spoken_moment(when: dt.datetime, now: dt.datetime) -> str:
    """'morgen om 8.30 uur', 'maandag om 9.00 uur', 'vandaag om 13.00 uur'."""
    days = (when.date() - local(now, str(when.tzinfo)).date()).days
    day = "vandaag" if days == 0 else "morgen" if days == 1 else DAY_NAMES[when.weekday()]
    return f"{day} om {_clock(when.time())} uur"
