"""For any range, price_slots covers exactly [start, end) with contiguous quarter slots."""

from __future__ import annotations

import datetime as dt
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.households.models import Household
from apps.tariffs.selectors import price_slots

QUARTER = dt.timedelta(minutes=15)
ZONES = [ZoneInfo(z) for z in ("UTC", "Europe/London", "Europe/Paris", "Europe/Brussels")]

starts = st.datetimes(
    min_value=dt.datetime(2025, 1, 2),
    max_value=dt.datetime(2027, 12, 28),
    timezones=st.sampled_from(ZONES),
)
lengths = st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=3))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(start=starts, length=lengths)
def test_slots_cover_the_range_exactly(
    be_home: Household, start: dt.datetime, length: dt.timedelta
) -> None:
    # Absolute arithmetic, compared in UTC: PEP 495 makes an aware time in a DST gap or
    # fold unequal to every time of another zone, even the same instant.
    end = (start.astimezone(dt.UTC) + length).astimezone(start.tzinfo)
    slots = price_slots(household=be_home, start=start, end=end)
    if length == dt.timedelta(0):
        assert slots == []
        return
    assert slots[0].start == start.astimezone(dt.UTC)
    assert slots[-1].end == end.astimezone(dt.UTC)
    for before, after in pairwise(slots):
        assert before.end == after.start
        assert after.start.tzinfo is dt.UTC
        assert (after.start - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) % QUARTER == dt.timedelta(0)
    for slot in slots:
        assert dt.timedelta(0) < slot.end - slot.start <= QUARTER
        assert slot.period in {"day", "night"}
