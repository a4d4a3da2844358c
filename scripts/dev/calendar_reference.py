#!/usr/bin/env python3
"""Dumps an independent reference for tickring's calendars: the open-source `exchange_calendars` library.

Dev tool only; tickring never runs it. Writes engine/tests/fixtures/calendar_reference.csv, which
engine/tests/calendar_reference.rs compares with tickring's calendars day by day.

Setup (any scratch venv, e.g. under var/, which git ignores):
    python3 -m venv var/xcal && var/xcal/bin/pip install exchange_calendars
    var/xcal/bin/python scripts/dev/calendar_reference.py

File format (one line per fact, `#` comments; times are the exchange's local wall time; `-1d 17:00` is
17:00 on the day before the session's date):
    MIC,hours,FROM,OPEN,BREAK_START,BREAK_END,CLOSE   weekday sessions from FROM on have these times
    MIC,closed,DATE                                   a weekday without a session
    MIC,day,DATE,OPEN,BREAK_START,BREAK_END,CLOSE      a session whose times differ from the hours in force
    MIC,range,FIRST,LAST                              the days the reference covers
Keeping only changes makes 36 years of 14 exchanges a small file.
"""

import datetime as dt
import os
import sys

import exchange_calendars as xcals
import pandas as pd

FIRST = "2000-01-01"
LAST = "2035-12-31"
# tickring MIC -> reference calendar name, and the last day the reference will build (it refuses to
# predict some lunar calendars).
EXCHANGES = [
    ("XNYS", "XNYS", LAST),
    ("XNAS", "XNAS", LAST),
    ("XASE", "XASE", LAST),
    ("ARCX", "ARCX", LAST),
    ("XCME", "CMES", LAST),
    ("XKRX", "XKRX", LAST),
    ("XTKS", "XTKS", LAST),
    ("XHKG", "XHKG", LAST),
    ("XLON", "XLON", LAST),
    ("XPAR", "XPAR", LAST),
    ("XETR", "XETR", LAST),
    ("XSHG", "XSHG", "2026-12-31"),
    ("XTSE", "XTSE", LAST),
    ("XASX", "XASX", LAST),
]
# A change of hours counts as the new template only when it holds this many sessions in a row.
TEMPLATE_RUN = 15


def wall(ts, day, tz):
    """`HH:MM` on the session's date, `-Nd HH:MM` on an earlier one; empty when absent."""
    if ts is None or pd.isna(ts):
        return ""
    local = ts.tz_convert(tz)
    back = (day - local.date()).days
    text = local.strftime("%H:%M")
    return f"-{back}d {text}" if back > 0 else text


def dump(mic, name, last, out):
    cal = xcals.get_calendar(name, start=FIRST, end=last)
    tz = cal.tz
    sched = cal.schedule
    sessions = []
    for day, row in sched.iterrows():
        d = day.date()
        times = tuple(wall(row[c], d, tz) for c in ("open", "break_start", "break_end", "close"))
        sessions.append((d, times))
    out.write(f"{mic},range,{FIRST},{last}\n")
    by_day = dict(sessions)
    hours = None
    for i, (d, times) in enumerate(sessions):
        if times != hours or d.weekday() >= 5:
            run = [t for _, t in sessions[i : i + TEMPLATE_RUN]]
            if d.weekday() < 5 and (hours is None or (len(run) == TEMPLATE_RUN and all(t == times for t in run))):
                hours = times
                out.write(f"{mic},hours,{d},{','.join(times)}\n")
            else:
                out.write(f"{mic},day,{d},{','.join(times)}\n")
    day = dt.date.fromisoformat(FIRST)
    end = dt.date.fromisoformat(last)
    while day <= end:
        if day.weekday() < 5 and day not in by_day:
            out.write(f"{mic},closed,{day}\n")
        day += dt.timedelta(days=1)


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.path.join(root, "engine", "tests", "fixtures", "calendar_reference.csv")
    with open(path, "w") as out:
        out.write(f"# exchange_calendars {xcals.__version__}, {FIRST} .. {LAST}; written by {os.path.relpath(__file__, root)}\n")
        for mic, name, last in EXCHANGES:
            dump(mic, name, last, out)
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
