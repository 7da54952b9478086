"""The benchmarks' shared start: a throwaway data directory, Django set up and migrated."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile


def instance_setup() -> None:
    """Set Django up on DATABASE_URL (else SQLite in a throwaway data dir) and migrate it."""
    if "ATTRITION_DATA_DIR" not in os.environ:
        data_dir = tempfile.mkdtemp(prefix="attrition-bench-")
        atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
        os.environ["ATTRITION_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attrition.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
