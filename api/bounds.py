"""Input every route refuses before its handler runs (the app's `before_request` hook), each with a 400
that names the parameter:

- the NUL character in a path or query parameter: PostgreSQL refuses it in text, so a handler that
  passed it on would fail with a 500 (`/api/scanners/a%00b`);
- a path parameter longer than MAX_PATH_SEGMENT characters, or a query value longer than
  MAX_QUERY_VALUE (no route takes one; a handler's tighter limit, such as a scanner name's 64, is checked
  by Litestar with its parameters, after the dependencies);
- a JSON body nested so deeply that decoding it exhausts the stack (10,000 `[`: msgspec raises
  RecursionError, which would be a 500). The body is decoded here, inside a guard, and Litestar reuses the
  decoded value for the handler's `data`. What is nested less deeply than the stack allows but more than
  any setting is (`api.validation.MAX_JSON_DEPTH`) is refused with its path by the validation.

A body larger than `ApiSettings.max_body_bytes` is refused (413) by Litestar while it is read, before
any of it is decoded. Strings too long for a parameter are refused by each handler's `Parameter(
max_length=...)`.
"""

from __future__ import annotations

from litestar import Request
from litestar.exceptions import ClientException, SerializationException, ValidationException

from api.validation import MAX_JSON_DEPTH

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
MAX_PATH_SEGMENT = 255
"""Characters of a path parameter, refused here, before a handler's dependencies (a pooled database
connection) are resolved; each handler's own `Parameter(max_length=...)` is checked only after them."""
MAX_QUERY_VALUE = 1000
"""Characters of a query parameter's value (the longest any route takes: 50 symbols, comma-separated)."""


def _named(name: str) -> str:
    return repr(name if len(name) <= 60 else name[:57] + "...")


async def refuse_bad_input(request: Request) -> None:
    """Raise a 400 naming the parameter for a NUL character; decode a JSON body safely."""
    for name, value in request.path_params.items():
        if not isinstance(value, str):
            continue
        if "\x00" in value:
            raise ValidationException(f"path parameter {_named(name)} must not contain the NUL character (%00)")
        if len(value) > MAX_PATH_SEGMENT:
            raise ValidationException(f"path parameter {_named(name)} is {len(value):,} characters long; no name "
                                      f"is longer than {MAX_PATH_SEGMENT}")
    for name, value in request.query_params.multi_items():
        if "\x00" in name or (isinstance(value, str) and "\x00" in value):
            raise ValidationException(f"query parameter {_named(name.replace(chr(0), '%00'))} must not contain "
                                      "the NUL character (%00)")
        if isinstance(value, str) and len(value) > MAX_QUERY_VALUE:
            raise ValidationException(f"query parameter {_named(name)} is {len(value):,} characters long; none "
                                      f"takes more than {MAX_QUERY_VALUE:,}")
    if request.method in BODY_METHODS and await request.body():
        try:
            await request.json()  # kept by the request: the handler's `data` is not decoded again
        except RecursionError:
            raise ValidationException(f"the JSON body nests arrays and objects too deeply; no setting is nested "
                                      f"more than {MAX_JSON_DEPTH} levels") from None
        except SerializationException as exc:
            raise ClientException(str(exc)) from None
