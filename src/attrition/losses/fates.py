"""A loss's fate history and the rule that picks its headline fate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from attrition.errors import InvalidInput
from attrition.losses.choices import Fate


class FateEntry(BaseModel):
    """One state an item reached: destroyed, damaged, abandoned or captured, with detail."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fate: Fate
    detail: str = Field(default="", max_length=200)
    date: dt.date | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "fate": str(self.fate.value),
            "detail": self.detail,
            "date": self.date.isoformat() if self.date else None,
        }


def fates_parse(raw: Iterable[FateEntry | Mapping[str, Any] | str]) -> list[FateEntry]:
    """Return validated fate entries in order, or raise InvalidInput naming the bad entry."""
    entries: list[FateEntry] = []
    for index, item in enumerate(raw):
        try:
            if isinstance(item, FateEntry):
                entries.append(item)
            elif isinstance(item, str):
                entries.append(FateEntry(fate=Fate(item.strip().lower())))
            else:
                entries.append(FateEntry.model_validate(dict(item)))
        except (ValidationError, ValueError, TypeError) as exc:
            allowed = ", ".join(Fate.values)
            raise InvalidInput(
                f"fate #{index + 1} ({item!r}) is not valid: a fate is one of {allowed}",
                details={"fates": str(exc)},
            ) from None
    if not entries:
        raise InvalidInput(
            "a loss needs at least one fate (destroyed, damaged, abandoned, captured)"
        )
    return entries


def headline_fate(entries: Sequence[FateEntry]) -> Fate:
    """Return the fate a loss is counted under: its last state, as Oryx counts."""
    return entries[-1].fate


def fate_history_text(history: Sequence[Mapping[str, Any]]) -> str:
    """Return a fate history as trackers write it, e.g. "captured and later destroyed"."""
    parts = []
    for entry in history:
        text = str(entry["fate"])
        if entry.get("detail"):
            text += f" ({entry['detail']})"
        parts.append(text)
    return " and later ".join(parts)
