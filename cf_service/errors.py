"""The caller-facing error the service's core and its HTTP layer share; the app turns it into
`{"error": {"code", "message", "hint"?, ...}}` with its status."""
from __future__ import annotations


class ApiError(Exception):
    """A caller-facing error: HTTP status, stable code, actionable message, optional hint/details."""

    def __init__(self, status: int, code: str, message: str, *, hint: str | None = None,
                 details: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.hint, self.details = status, code, message, hint, details
