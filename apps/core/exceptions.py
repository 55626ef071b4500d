"""Business refusals raised by services (STYLE.md S7)."""

from django.utils.functional import Promise


class DomainError(Exception):
    """A business rule refused the action.

    ``message`` is user-facing Chinese text (through gettext); ``code`` is stable English
    snake_case that API clients may branch on.
    """

    def __init__(self, message: str | Promise, *, code: str = "domain_error") -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.code = code

    def __str__(self) -> str:
        return self.message
