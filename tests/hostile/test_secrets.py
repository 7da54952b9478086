"""No default secrets in production: a weak secret key stops the instance before it writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_settings import SETUP, assert_fails, run_django

PRINT_KEY = SETUP + "; from django.conf import settings; print(settings.SECRET_KEY)"
GOOD_KEY = "Vq3-x8Lr_0pZ" * 5


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("changeme", ["well-known"]),
        ("secret", ["well-known"]),
        ("django-insecure-" + "a1b2c3d4e5" * 5, ["well-known"]),
        ("short-but-random-3f9a", ["21 characters", "at least 50"]),
        ("ab" * 40, ["fewer than 5 different characters"]),
    ],
)
def test_it_refuses_to_start_with_a_weak_secret_key(
    tmp_path: Path, key: str, words: list[str]
) -> None:
    data_dir = tmp_path / "data"
    result = run_django(data_dir, PRINT_KEY, ATTRITION_SECRET_KEY=key)
    assert_fails(result, "ATTRITION_SECRET_KEY", *words)
    if len(key) > 10:
        assert key not in result.stderr  # the refusal does not print the secret
    assert not data_dir.exists()  # refused before anything was written


def test_it_lets_a_debug_instance_use_any_key(tmp_path: Path) -> None:
    result = run_django(tmp_path, PRINT_KEY, ATTRITION_SECRET_KEY="dev", ATTRITION_DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "dev"


def test_it_starts_with_a_strong_key(tmp_path: Path) -> None:
    result = run_django(tmp_path, PRINT_KEY, ATTRITION_SECRET_KEY=GOOD_KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == GOOD_KEY


def test_it_refuses_a_short_generated_key_file(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("too-short\n")
    assert_fails(run_django(tmp_path, PRINT_KEY), "shorter than 50 characters")


def test_each_instance_generates_its_own_key(tmp_path: Path) -> None:
    first = run_django(tmp_path / "a", PRINT_KEY)
    second = run_django(tmp_path / "b", PRINT_KEY)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    keys = {first.stdout.strip(), second.stdout.strip()}
    assert len(keys) == 2
    assert all(len(key) >= 50 for key in keys)


def test_the_first_admin_gets_a_random_one_time_password(db: None) -> None:
    from attrition.accounts.services import admin_create

    _, first = admin_create(username="first-admin")
    _, second = admin_create(username="second-admin")
    assert first != second
    assert len(first) >= 16
