"""What a request body is: decided here for every route, and mapped to one error shape.

API Gateway hands a body over as text, or as base64 for bytes it could not pass as text.
Whatever the route, a body must be UTF-8 text of at most `MAX_BODY_BYTES`: that is checked
before any route runs (`refusal`). A route that takes a JSON body (the media type its OpenAPI
`requestBody` names) then reads it only when sent as `Content-Type: application/json`, and
refuses text that does not parse, or that parses to something other than the object it
describes (`invalid_body`). A route that takes another media type says so in its own
`requestBody`, and reads its body itself.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from mtcore.errors import ErrorBody, FieldProblem

MAX_BODY_BYTES = 64 * 1024
_JSON = "application/json"
# Pydantic's error types for a body that is there but is not the JSON object a route describes.
_NOT_AN_OBJECT = {"model_attributes_type", "dict_type", "model_type"}
# No route takes form data: such a body is refused whatever the route.
_FORMS = ("application/x-www-form-urlencoded", "multipart/")


def refusal(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """The answer for a body no route can read (too large, not UTF-8 text), or None."""
    body = event.get("body")
    if not body:
        return None
    content_type = _header(event, "content-type")
    if content_type.lower().startswith(_FORMS):
        status, refused = unsupported_media_type(content_type)
        return _answer(status, refused)
    try:
        raw = base64.b64decode(body, validate=True) if event.get("isBase64Encoded") else body.encode()
    except (binascii.Error, UnicodeEncodeError):
        unreadable = ErrorBody(
            code="INVALID_BODY", message="The body could not be read: send it as UTF-8 JSON"
        )
        return _answer(HTTPStatus.BAD_REQUEST, unreadable)
    if len(raw) > MAX_BODY_BYTES:
        too_large = ErrorBody(
            code="PAYLOAD_TOO_LARGE", message=f"The body is {len(raw)} bytes; send at most {MAX_BODY_BYTES}"
        )
        return _answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, too_large)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        not_text = ErrorBody(
            code="INVALID_BODY",
            message=f"The body is not UTF-8 text (byte {error.start} cannot be read): send it as UTF-8 JSON",
        )
        return _answer(HTTPStatus.BAD_REQUEST, not_text)
    return None


def unsupported_media_type(content_type: str) -> tuple[int, ErrorBody]:
    sent = content_type.split(";")[0].strip() or "none"
    return HTTPStatus.UNSUPPORTED_MEDIA_TYPE, ErrorBody(
        code="UNSUPPORTED_MEDIA_TYPE",
        message=f"This route takes a JSON body: send it with Content-Type: {_JSON} (not {sent})",
    )


def invalid_body(
    errors: list[dict[str, Any]], content_type: str, body: str | None
) -> tuple[int, ErrorBody] | None:
    """The answer when what is wrong is the body as a whole, not one of its fields; else None."""
    media_type = content_type.split(";")[0].strip().lower()
    for entry in errors:
        location = tuple(entry.get("loc", ()))
        if not location or location[0] != "body":
            continue
        kind = entry.get("type")
        if media_type and media_type != _JSON:
            # Not read as JSON: naming missing fields would only mislead.
            return unsupported_media_type(content_type)
        if kind == "json_invalid":
            reason = (entry.get("ctx") or {}).get("error") or "it does not parse"
            return HTTPStatus.BAD_REQUEST, ErrorBody(
                code="INVALID_BODY",
                message=f"The body is not valid JSON ({reason}, at character {location[-1]}): "
                "send a JSON object",
                details=[FieldProblem(field="body", message="not valid JSON")],
            )
        if location == ("body",) and kind == "missing":
            return _body_problem("This request needs a JSON object as its body", "required")
        if location == ("body",) and kind in _NOT_AN_OBJECT:
            return _body_problem(
                f"The body must be a JSON object ({{…}}), not {_json_kind(body)}", "must be a JSON object"
            )
    return None


def _body_problem(message: str, problem: str) -> tuple[int, ErrorBody]:
    return HTTPStatus.UNPROCESSABLE_ENTITY, ErrorBody(
        code="VALIDATION_ERROR", message=message, details=[FieldProblem(field="body", message=problem)]
    )


def _json_kind(body: str | None) -> str:
    first = (body or "").lstrip()[:1]
    return {"[": "an array", '"': "a string", "t": "a boolean", "f": "a boolean", "n": "null"}.get(
        first, "a number"
    )


def _header(event: Mapping[str, Any], name: str) -> str:
    headers = event.get("headers") or {}
    return str(next((value for key, value in headers.items() if key.lower() == name), ""))


def _answer(status: int, body: ErrorBody) -> dict[str, Any]:
    """An API Gateway proxy answer, as the resolver would give it."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": _JSON},
        "multiValueHeaders": {},
        "body": json.dumps(body.model_dump(exclude_none=True)),
        "isBase64Encoded": False,
    }
