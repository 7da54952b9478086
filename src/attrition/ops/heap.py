"""The web process's heap: what is loaded once is kept out of the garbage collector's full passes.

A full (generation 2) collection walks every tracked object in the process. Django, the API's
schemas and the URL map are ~150,000 of them, and a full pass over those took 70-110 ms of a
request now and then (bench/publish.py: the list API's p99). `gc.freeze()` moves what is alive
after start-up into a generation the collector never walks; later passes walk only what requests
leave behind (~10 ms).
"""

from __future__ import annotations

import gc


def heap_settle() -> int:
    """Load every view (through the URL map), collect, then freeze what is left; return its size."""
    from django.urls import get_resolver

    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018  # imports every view, the API and its schemas
    resolver.reverse_dict  # noqa: B018  # built on the first reverse() otherwise
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
