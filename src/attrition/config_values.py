"""How a setting is declared and read: the registry, its error, and the parsers of plain values.

`attrition.config` declares every setting with these; each setting's value is read from the
environment through its parser, which fails loudly (SettingError) on a value it cannot use.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")


class SettingError(ImproperlyConfigured):
    """A setting in the environment has a value that cannot be used."""


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One environment setting: its name, default (as written in the environment) and help."""

    name: str
    default: str
    help: str
    parse: Callable[[str, str], T]

    def read(self, environ: Mapping[str, str] | None = None) -> T:
        """Return the parsed value from the environment, or the parsed default."""
        env = os.environ if environ is None else environ
        raw = env.get(self.name, self.default)
        return self.parse(self.name, raw)


SETTINGS: dict[str, Setting[object]] = {}


def declare(name: str, default: str, help: str, parse: Callable[[str, str], T]) -> Setting[T]:
    """Register a setting so that it is documented and checked; return it."""
    if name in SETTINGS:
        raise ValueError(f"setting {name} declared twice")
    setting = Setting(name=name, default=default, help=help, parse=parse)
    SETTINGS[name] = setting  # type: ignore[assignment]
    return setting


def parse_str(name: str, raw: str) -> str:
    return raw.strip()


def parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise SettingError(f"{name}={raw!r} is not a boolean: use 1/0, true/false, yes/no or on/off")


def parse_int(name: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise SettingError(f"{name}={raw!r} is not a whole number") from None


def parse_positive_int(name: str, raw: str) -> int:
    value = parse_int(name, raw)
    if value < 1:
        raise SettingError(f"{name}={raw!r} must be 1 or more")
    return value


def parse_list(name: str, raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def parse_networks(name: str, raw: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for part in parse_list(name, raw):
        try:
            networks.append(ipaddress.ip_network(part))
        except ValueError as exc:
            raise SettingError(
                f"{name}={raw!r}: {part!r} is not a network in CIDR form such as "
                f"127.0.0.0/8 or ::1/128 ({exc})"
            ) from None
    return networks


def parse_path(name: str, raw: str) -> Path:
    if not raw.strip():
        raise SettingError(f"{name} is empty: give a directory path")
    return Path(raw.strip()).expanduser().resolve()


def writable_directory(name: str, path: Path) -> Path:
    """Create the directory if needed and prove it is writable; fail loudly otherwise."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise SettingError(
            f"{name}={str(path)!r} is not a writable directory ({exc.strerror or exc}). "
            f"Create it with write permission for this user, or point {name} elsewhere."
        ) from None
    return path


def parse_non_negative_int(name: str, raw: str) -> int:
    value = parse_int(name, raw)
    if value < 0:
        raise SettingError(f"{name}={raw!r} must be 0 or more")
    return value
