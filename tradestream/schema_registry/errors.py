"""The one error of the registry: what the REST API answers, as Confluent's registry answers it."""

from __future__ import annotations


class ApiError(Exception):
    """A refused request: `http_status` and Confluent's `error_code` go to the client with `message`."""

    def __init__(self, http_status: int, error_code: int, message: str) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.error_code = error_code
        self.message = message
