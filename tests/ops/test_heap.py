"""A web process freezes what it loaded at start-up, so that full collections skip it."""

from __future__ import annotations

import subprocess
import sys

from attrition.ops.heap import heap_settle

PROBE = """
import gc
import sys
import attrition.wsgi
print(gc.get_freeze_count(), "attrition.api.main" in sys.modules)
"""


def test_the_wsgi_module_loads_every_view_then_freezes_the_heap() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    frozen, api_loaded = done.stdout.split()
    assert int(frozen) > 50_000  # Django and the app: ~150,000 objects
    assert api_loaded == "True"  # views are imported before the freeze, not by the first request


def test_settling_freezes_what_is_alive_and_leaves_the_rest_to_the_collector() -> None:
    import gc

    before = gc.get_freeze_count()
    try:
        assert heap_settle() >= before
        assert gc.get_freeze_count() > 0
        gc.collect()
        assert gc.get_freeze_count() > 0  # a full pass does not thaw or walk the frozen objects
    finally:
        gc.unfreeze()
