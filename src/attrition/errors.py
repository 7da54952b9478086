"""The one application error hierarchy; the site and the API render it in one place each."""

from __future__ import annotations

from typing import Any


class AttritionError(Exception):
    """A failure to report to the user: a stable code, a sentence, and optional details."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        """Return the one JSON error shape: {"error": {"code", "message", "details"}}."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidInput(AttritionError):
    code = "invalid"
    status = 400


class NotFound(AttritionError):
    code = "not_found"
    status = 404


class Forbidden(AttritionError):
    code = "forbidden"
    status = 403


class StaleEdit(AttritionError):
    """Someone saved the record after this edit began; the edit was refused, nothing was lost."""

    code = "stale_edit"
    status = 409
