"""The versions of the tools a capture used, as its custody record keeps them."""

from __future__ import annotations

import platform
from functools import cache
from importlib import metadata


@cache
def version_of(package: str) -> str:
    """Return the installed version of a package."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:  # running from a tree that was never installed
        return "unknown"


def tool_versions() -> dict[str, str]:
    """Return {tool: version} for attrition, the libraries a capture runs through, and Python."""
    return {
        "attrition": version_of("attrition"),
        "urllib3": version_of("urllib3"),
        "yt-dlp": version_of("yt-dlp"),
        "av": version_of("av"),
        "pillow": version_of("pillow"),
        "pillow-heif": version_of("pillow-heif"),
        "python-magic": version_of("python-magic"),
        "pdqhash": version_of("pdqhash"),
        "beautifulsoup4": version_of("beautifulsoup4"),
        "python": platform.python_version(),
    }


def user_agent() -> str:
    """Return the User-Agent that captures send."""
    return (
        f"attrition/{version_of('attrition')} "
        f"(evidence archiver; python-urllib3/{version_of('urllib3')})"
    )
