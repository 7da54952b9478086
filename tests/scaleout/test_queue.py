"""ATTRITION_QUEUE picks the job queue: SQLite in the data directory, Redis or PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils.module_loading import import_string

from attrition import config
from tests.backup.conftest import pg_database
from tests.scaleout.stack import redis_queue


def huey_for(env: dict[str, str], tmp_path: Path) -> Any:
    """Return the Huey instance the settings would make for `env`."""
    options = config.queue_options(data_dir=tmp_path, environ=env)
    huey_class = import_string(str(options.pop("huey_class")))
    return huey_class(config.QUEUE_NAME.read(env), **options)


def round_trip(huey: Any) -> int:
    """Enqueue a job, take it off the queue as a worker does, run it; return its result."""

    @huey.task()
    def add(a: int, b: int) -> int:
        return a + b

    result = add(2, 3)
    assert huey.pending_count() == 1
    huey.execute(huey.dequeue())
    assert huey.pending_count() == 0
    return int(result.get())


def test_it_keeps_the_queue_in_the_data_directory_by_default(tmp_path: Path) -> None:
    huey = huey_for({}, tmp_path)
    assert type(huey).__name__ == "SqliteHuey"
    assert round_trip(huey) == 5
    assert (tmp_path / "jobs.sqlite3").is_file()


@pytest.mark.parametrize(
    "value", ["mysql://db/jobs", "redis://", "amqp://broker:5672", "jobs.sqlite3"]
)
def test_it_refuses_a_queue_it_cannot_use(value: str) -> None:
    with pytest.raises(config.SettingError, match=r"ATTRITION_QUEUE=.* is not a queue: use sqlite"):
        config.QUEUE.read({"ATTRITION_QUEUE": value})


def test_it_refuses_a_queue_name_with_other_characters() -> None:
    with pytest.raises(config.SettingError, match="letters, digits and underscores"):
        config.QUEUE_NAME.read({"ATTRITION_QUEUE_NAME": "my queue"})


def test_it_runs_jobs_through_redis(tmp_path: Path) -> None:
    with redis_queue() as (url, name):
        huey = huey_for({"ATTRITION_QUEUE": url, "ATTRITION_QUEUE_NAME": name}, tmp_path)
        assert type(huey).__name__ == "RedisExpireHuey"
        try:
            assert round_trip(huey) == 5
        finally:
            huey.storage.pool.disconnect()


@pytest.mark.postgres
@pytest.mark.django_db
def test_it_runs_jobs_through_postgres(tmp_path: Path) -> None:
    with pg_database() as url:
        huey = huey_for({"ATTRITION_QUEUE": url}, tmp_path)
        assert type(huey).__name__ == "PostgresHuey"
        try:
            assert round_trip(huey) == 5
        finally:
            huey.storage.close()
