"""How the API answers what went wrong: every bad input a 4xx that names what to change, and a true bug a
500 that says nothing of the internals but carries a request id the log has the traceback under.

    400  a NUL character in a path or query parameter, or JSON nested too deeply (`api.bounds`); a field
         error of a scanner (`api.scanners`); a parameter out of its range (Litestar's validation)
    413  a body larger than `max_body_bytes` (API_MAX_BODY_BYTES), named in the answer
    422  scanner settings that could not be validated within `validation_timeout_s`
    500  anything else: `{"status_code": 500, "detail": ..., "request_id": "…"}`, the traceback logged
         with `request_id=…` (also the X-Request-ID header)
    503  PostgreSQL unreachable (`api.database`), or every validation worker busy; with Retry-After
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable

from litestar import Request, Response
from litestar.status_codes import (HTTP_413_REQUEST_ENTITY_TOO_LARGE, HTTP_422_UNPROCESSABLE_ENTITY,
                                   HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE)

from api.settings import ApiSettings
from api.validation import ValidationBusy, ValidationTimedOut

log = logging.getLogger(__name__)

Handler = Callable[[Request, Exception], Response[dict[str, object]]]


def internal_error(request: Request, exc: Exception) -> Response[dict[str, object]]:
    """A bug: the traceback in the log under a new request id, and only that id in the answer."""
    request_id = uuid.uuid4().hex
    log.error("request_id=%s method=%s path=%s unhandled %s", request_id, request.method, request.url.path,
              type(exc).__name__, exc_info=exc)
    return Response({"status_code": 500, "detail": f"internal error; the API's log has the details under "
                                                   f"request id {request_id}", "request_id": request_id},
                    status_code=HTTP_500_INTERNAL_SERVER_ERROR, headers={"X-Request-ID": request_id})


def body_too_large(settings: ApiSettings) -> Handler:
    def handle(request: Request, exc: Exception) -> Response[dict[str, object]]:
        return Response({"status_code": 413, "detail": f"the request body is larger than {settings.max_body_bytes:,} "
                                                       "bytes (API_MAX_BODY_BYTES)"},
                        status_code=HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    return handle


def validation_unavailable(settings: ApiSettings) -> Handler:
    """ValidationBusy: 503 with Retry-After; ValidationTimedOut: 422 (the settings themselves are too costly)."""
    def handle(request: Request, exc: Exception) -> Response[dict[str, object]]:
        if isinstance(exc, ValidationTimedOut):
            return Response({"status_code": 422, "detail": str(exc)}, status_code=HTTP_422_UNPROCESSABLE_ENTITY)
        return Response({"status_code": 503, "detail": str(exc)}, status_code=HTTP_503_SERVICE_UNAVAILABLE,
                        headers={"Retry-After": str(max(1, math.ceil(settings.validation_timeout_s)))})
    return handle


def handlers(settings: ApiSettings) -> dict[type[Exception] | int, Handler]:
    """The API's exception handlers beside the database's (`api.database.unavailable_handler`)."""
    return {
        HTTP_413_REQUEST_ENTITY_TOO_LARGE: body_too_large(settings),
        ValidationBusy: validation_unavailable(settings),
        ValidationTimedOut: validation_unavailable(settings),
        # Any exception without a handler of its own, and Litestar's InternalServerException.
        HTTP_500_INTERNAL_SERVER_ERROR: internal_error,
    }

