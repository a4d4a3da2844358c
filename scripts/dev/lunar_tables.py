#!/usr/bin/env python3
"""Prints the lunar-holiday date tables of engine/calendars/xkrx.toml and xhkg.toml, 2000-2035.

Dev tool only: the tables are committed in the calendar files, which name this provenance. Korea uses
the Korean lunar calendar (korean_lunar_calendar, KASI data); Hong Kong the Chinese one (lunardate). The
two differ on a few dates (the meridians differ by an hour), which is why each market uses its own.

Setup (any scratch venv, e.g. under var/, which git ignores):
    python3 -m venv var/xcal && var/xcal/bin/pip install korean_lunar_calendar lunardate
    var/xcal/bin/python scripts/dev/lunar_tables.py
"""

import datetime as dt

from korean_lunar_calendar import KoreanLunarCalendar
from lunardate import LunarDate

YEARS = range(2000, 2036)
DAY = dt.timedelta(days=1)


def korean(year, month, day):
    cal = KoreanLunarCalendar()
    if not cal.setLunarDate(year, month, day, False):
        raise ValueError(f"no Korean lunar date {year}/{month}/{day}")
    return dt.date.fromisoformat(cal.SolarIsoFormat())


def chinese(year, month, day):
    return LunarDate(year, month, day).toSolarDate()


def ching_ming(year):
    """The Qingming solar term, 21st-century approximation (April 4 or 5)."""
    y = year % 100
    return dt.date(year, 4, int(y * 0.2422 + 4.81) - y // 4)


def show(title, dates):
    print(f"# {title}")
    dates = [str(d) for d in dates]
    for i in range(0, len(dates), 6):
        print("  " + ", ".join(dates[i : i + 6]) + ",")


def main():
    show("XKRX Seollal (12/last, 1/1, 1/2)", [korean(y, 1, 1) + k * DAY for y in YEARS for k in (-1, 0, 1)])
    show("XKRX Buddha's Birthday (4/8)", [korean(y, 4, 8) for y in YEARS])
    show("XKRX Chuseok (8/14-16)", [korean(y, 8, 15) + k * DAY for y in YEARS for k in (-1, 0, 1)])
    show("XHKG Lunar New Year (1/1-1/3)", [chinese(y, 1, d) for y in YEARS for d in (1, 2, 3)])
    show("XHKG Lunar New Year's Eve", [chinese(y, 1, 1) - DAY for y in YEARS])
    show("XHKG Ching Ming", [ching_ming(y) for y in YEARS])
    show("XHKG Buddha's Birthday (4/8)", [chinese(y, 4, 8) for y in YEARS])
    show("XHKG Tuen Ng (5/5)", [chinese(y, 5, 5) for y in YEARS])
    show("XHKG day after Mid-Autumn (8/16)", [chinese(y, 8, 16) for y in YEARS])
    show("XHKG Chung Yeung (9/9)", [chinese(y, 9, 9) for y in YEARS])


if __name__ == "__main__":
    main()
