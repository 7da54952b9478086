"""Reads for the public ledger, one module per concept, all importable from here.

- ledger: the tracker-style page of a conflict;
- filtering: the one filter of the search page, the API, the feed and the exports;
- paging: sort orders and cursor pages;
- stats: grouped counts;
- changes: the data version, newly verified losses, counts then and now;
- related: what a loss page shows beside the loss (same evidence, merged, different items);
- versions: a verified loss's public history.
"""

from attrition.losses.selectors.changes import (
    LedgerChange,
    SideChange,
    ledger_changed_at,
    ledger_changes,
    losses_recently_verified,
)
from attrition.losses.selectors.filtering import (
    FILTER_FIELDS,
    LossFilter,
    losses_filter,
    public_ledger,
)
from attrition.losses.selectors.ledger import (
    CategoryBlock,
    ConflictLedger,
    EvidenceLink,
    FateCounts,
    ModelLine,
    SideBlock,
    conflict_ledger,
)
from attrition.losses.selectors.paging import (
    DEFAULT_SORT,
    SORTS,
    LossPage,
    losses_page,
    page_ids,
    sort_order,
)
from attrition.losses.selectors.related import Related, loss_related
from attrition.losses.selectors.stats import (
    PERIODS,
    STAT_DIMENSIONS,
    StatRow,
    Stats,
    losses_stats,
)
from attrition.losses.selectors.versions import HistoryEntry, loss_public_history

__all__ = [
    "DEFAULT_SORT",
    "FILTER_FIELDS",
    "PERIODS",
    "SORTS",
    "STAT_DIMENSIONS",
    "CategoryBlock",
    "ConflictLedger",
    "EvidenceLink",
    "FateCounts",
    "HistoryEntry",
    "LedgerChange",
    "LossFilter",
    "LossPage",
    "ModelLine",
    "Related",
    "SideBlock",
    "SideChange",
    "StatRow",
    "Stats",
    "conflict_ledger",
    "ledger_changed_at",
    "ledger_changes",
    "loss_public_history",
    "loss_related",
    "losses_filter",
    "losses_page",
    "losses_recently_verified",
    "losses_stats",
    "page_ids",
    "public_ledger",
    "sort_order",
]
