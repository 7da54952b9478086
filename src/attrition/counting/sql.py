"""SQL functions the timelines group by, written natively for SQLite and PostgreSQL.

Django's Trunc functions run a Python function per row on SQLite (django_date_trunc), which costs
seconds over a million losses; these use SQLite's own date functions and PostgreSQL's date_trunc.
"""

from __future__ import annotations

from typing import Any

from django.db.models import DateField, Func, IntegerField

PERIOD_SQLITE = {
    "day": "date(%(expressions)s)",
    # 'weekday 0' moves to the next Sunday (or stays on one); six days back is its week's Monday.
    "week": "date(%(expressions)s, 'weekday 0', '-6 days')",
    "month": "date(%(expressions)s, 'start of month')",
}


class PeriodStart(Func):
    """The first day of a date's day, week (from Monday) or month."""

    output_field = DateField()

    def __init__(self, expression: Any, *, period: str) -> None:
        if period not in PERIOD_SQLITE:
            raise ValueError(f"unknown period {period!r}")
        self.period = period
        super().__init__(expression)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = PERIOD_SQLITE[self.period]
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = (
            "(%(expressions)s)::date"
            if self.period == "day"
            else f"date_trunc('{self.period}', (%(expressions)s)::timestamp)::date"
        )
        return self.as_sql(compiler, connection, template=template, **extra)


class UtcDate(Func):
    """The UTC calendar day of a stored time (Django keeps them in UTC on both engines)."""

    output_field = DateField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="date(%(expressions)s)", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "((%(expressions)s) AT TIME ZONE 'UTC')::date"
        return self.as_sql(compiler, connection, template=template, **extra)


class EarliestFateDate(Func):
    """The earliest date in a fate history (JSON list of {"fate", "date"}), or NULL."""

    output_field = DateField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # ISO dates order as text, and SQLite keeps dates as ISO text: no conversion needed.
        template = (
            "(SELECT MIN(json_extract(j.value, '$.date')) FROM json_each(%(expressions)s) AS j "
            "WHERE j.type = 'object' AND json_extract(j.value, '$.date') <> '')"
        )
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = (
            "(SELECT MIN((j ->> 'date')::date) FROM jsonb_array_elements(CASE WHEN "
            "jsonb_typeof(%(expressions)s) = 'array' THEN %(expressions)s ELSE '[]'::jsonb END) "
            "AS j WHERE jsonb_typeof(j) = 'object' AND (j ->> 'date') <> '')"
        )
        return self.as_sql(compiler, connection, template=template, **extra)


class DaysBetween(Func):
    """Whole days from the second date to the first (negative if the first is earlier)."""

    output_field = IntegerField()
    arity = 2

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "CAST(julianday(%(expressions)s) AS INTEGER)"
        return self.as_sql(
            compiler, connection, template=template, arg_joiner=") - julianday(", **extra
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "((%(expressions)s::date))"
        return self.as_sql(compiler, connection, template=template, arg_joiner="::date - ", **extra)
