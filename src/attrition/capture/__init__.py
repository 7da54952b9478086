"""The capture pipeline: canonicalise, guard, fetch, store and record evidence before it is gone."""
