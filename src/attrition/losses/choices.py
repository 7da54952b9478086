"""The closed vocabularies of the ledger: fates, review states, precisions."""

from __future__ import annotations

from django.db import models


class Fate(models.TextChoices):
    """What happened to an item. A loss's headline fate is the last one in its history."""

    DESTROYED = "destroyed", "destroyed"
    DAMAGED = "damaged", "damaged"
    ABANDONED = "abandoned", "abandoned"
    CAPTURED = "captured", "captured"


# The order in which trackers list fates in a headline ("destroyed: a, damaged: b, ...").
FATE_ORDER = [Fate.DESTROYED, Fate.DAMAGED, Fate.ABANDONED, Fate.CAPTURED]


class ReviewStatus(models.TextChoices):
    """Where a record is in review. Only VERIFIED records are public."""

    DRAFT = "draft", "draft"
    SUBMITTED = "submitted", "submitted"
    NEEDS_CHANGES = "needs_changes", "needs changes"
    VERIFIED = "verified", "verified"
    REJECTED = "rejected", "rejected"
    MERGED = "merged", "merged"


class DatePrecision(models.TextChoices):
    DAY = "day", "day"
    MONTH = "month", "month"
    YEAR = "year", "year"


class PlacePrecision(models.TextChoices):
    """How well a loss's place is known, from a surveyed point down to the province only."""

    EXACT = "exact", "exact point (within ~100 m)"
    APPROXIMATE = "approximate", "approximate point (within ~5 km)"
    SETTLEMENT = "settlement", "settlement"
    DISTRICT = "district", "district"
    PROVINCE = "province", "province"
    UNKNOWN = "unknown", "unknown"
