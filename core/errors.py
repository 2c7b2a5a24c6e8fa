"""Errors that services raise for rule violations. Adapters (API, pages, bot) turn them into responses."""


class ServiceError(Exception):
    """A business rule refused the request. ``code`` is machine-readable, ``message`` is for people."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class NotFound(ServiceError):
    status_code = 404
    code = "not_found"


class Conflict(ServiceError):
    status_code = 409
    code = "conflict"


class Forbidden(ServiceError):
    status_code = 403
    code = "forbidden"


class SeparationOfDuties(Forbidden):
    """Four eyes on money: the same person may not both ask for and grant a change that moves money (approve
    their own claim, adjust or pay their own player, approve and pay one payout). docs/security.md has the table."""

    code = "separation_of_duties"
