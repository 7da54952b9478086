import pytest

from tests.ledger import Ledger, ledger_small


@pytest.fixture
def ledger(db: None) -> Ledger:
    return ledger_small()
