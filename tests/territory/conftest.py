"""The territory tests' fixture: the tiny map (see tests/territory/tiny.py)."""

from __future__ import annotations

import pytest

from attrition.accounts.models import User
from tests.ledger import Ledger
from tests.territory.tiny import Map, tiny_map_make


@pytest.fixture
def tiny_map(ledger: Ledger, contributor: User, reviewer: User) -> Map:
    """Return the tiny map: four square districts in two provinces, with borders and aliases."""
    return tiny_map_make(ledger, contributor, reviewer)
