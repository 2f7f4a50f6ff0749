"""OpenAPI generated from the marshmallow schemas (flask-smorest), served at
``/openapi.json`` with a browsable ``/docs`` whose assets ship with the package,
so the page works without a network."""
from __future__ import annotations

import json
from functools import wraps
from typing import Any

import marshmallow as ma
from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from flask import Flask, Request, request, send_from_directory
from flask_smorest import Api, Blueprint
from marshmallow import RAISE
from swagger_ui_bundle import swagger_ui_path
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from .errors import ApiError, handle_http_exception, validation_error
from .fields import one_of_requirements, openapi_attributes


class ErrorDetail(ma.Schema):
    code = ma.fields.String(metadata={"example": "validation_error"})
    message = ma.fields.String()
    fields = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(),
                            metadata={"description": "field name to its problems"})


class ErrorBody(ma.Schema):
    error = ma.fields.Nested(ErrorDetail)


MAX_JSON_DEPTH = 32


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _invalid(doc: str, reason: str) -> json.JSONDecodeError:
    return json.JSONDecodeError(reason, doc or " ", 0)


def _check_json_value(value: Any, doc: str) -> None:
    """Walks without recursion: text must encode as UTF-8 (no lone surrogates), nesting stays shallow."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise _invalid(doc, "nested too deeply")
        if isinstance(item, dict):
            stack.extend((key, depth + 1) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise _invalid(doc, "unpaired surrogate in a string") from exc


class StrictJsonParser(FlaskParser):
    """Reads request bodies as strict RFC 8259 JSON.

    Python's json module also accepts NaN/Infinity, unpaired surrogates and
    nesting deep enough to exhaust the stack; the databases cannot store the
    first two and the third crashes the worker, so all three are answered as
    invalid JSON (400) instead of failing later with a 500.

    A query parameter the operation does not have is refused (422 naming it), as an unknown JSON
    field is: a misspelt ``?overdue`` or ``?status`` must not quietly answer as if it were absent.
    """

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": RAISE, "querystring": RAISE}

    def _raw_load_json(self, req: Request) -> Any:
        if not is_json_request(req):
            return core.missing
        raw = req.get_data(cache=True)
        doc = raw.decode("utf-8")  # UnicodeDecodeError is answered as invalid JSON by webargs
        try:
            value = json.loads(doc, parse_constant=_refuse_constant)
        except RecursionError as exc:
            raise _invalid(doc, "nested too deeply") from exc
        except json.JSONDecodeError:
            raise
        except ValueError as exc:
            raise _invalid(doc, str(exc)) from exc
        _check_json_value(value, doc)
        return value


def refuse_unknown_parts(*expected: str) -> None:
    """Refuses a multipart body's parts other than ``expected`` (422 naming each), as an unknown JSON
    field is. webargs reads a ``location="files"`` schema from the file parts only and would quietly
    ignore a stray text field; the OpenAPI publishes such a schema with ``additionalProperties: false``,
    so a body with another part is one the contract says is refused."""
    unknown = sorted((set(request.form) | set(request.files)) - set(expected))
    if unknown:
        raise validation_error({name: ["Unknown field."] for name in unknown})


class SuiteBlueprint(Blueprint):
    """flask-smorest's Blueprint reading JSON bodies strictly; every suite API blueprint uses it."""

    ARGUMENTS_PARSER = StrictJsonParser()

    def arguments(self, schema: Any, location: str = "json", *, required: bool = True, **kwargs: Any) -> Any:
        """As flask-smorest's; a JSON body documented as required is refused when it is missing (400),
        instead of being read as ``{}``, which a partial update would take as "change nothing"."""
        parse = super().arguments(schema, location=location, required=required, **kwargs)
        if location != "json" or not required:
            return parse

        def decorator(func: Any) -> Any:
            parsed = parse(func)

            @wraps(parsed)
            def wrapper(*args: Any, **kw: Any) -> Any:
                if not request.get_data(cache=True):
                    raise ApiError(400, "bad_request", "This request needs a JSON body.")
                return parsed(*args, **kw)

            return wrapper

        return decorator

    def alt_response(self, status_code: int, response: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        """An error documented here has the suite's error body unless told otherwise."""
        if int(status_code) >= 400 and response is None:
            kwargs.setdefault("schema", ErrorBody)
        return super().alt_response(status_code, response, **kwargs)


class SuiteConverter(OpenAPIConverter):
    """Schemas publish their :func:`~suite_common.fields.exactly_one_of` rules as ``oneOf``."""

    def schema2jsonschema(self, schema: Any) -> dict[str, Any]:
        jsonschema = super().schema2jsonschema(schema)
        requirements = one_of_requirements(schema)
        if requirements:
            jsonschema["allOf"] = requirements
        return jsonschema


class SuiteMarshmallowPlugin(MarshmallowPlugin):
    Converter = SuiteConverter


class RequestLineLimit(BasePlugin):
    """gunicorn answers a request line over ``limit_request_line`` itself, in HTML, before the service sees it."""

    def operation_helper(self, path: str | None = None, operations: dict[str, Any] | None = None,
                         **kwargs: Any) -> None:
        for operation in (operations or {}).values():
            operation.setdefault("responses", {})["414"] = {
                "description": "the request line (URL with query) is over 8190 bytes; from the HTTP server",
                "content": {"text/html": {"schema": {"type": "string"}}}}


class SuiteApi(Api):
    """flask-smorest with the suite's error body instead of its own, and fields that document their own rules."""

    ERROR_SCHEMA = ErrorBody

    def _init_spec(self, **kwargs: Any) -> None:
        kwargs["marshmallow_plugin"] = SuiteMarshmallowPlugin()
        kwargs["extra_plugins"] = [RequestLineLimit()]
        super()._init_spec(**kwargs)
        self.ma_plugin.converter.add_attribute_function(openapi_attributes)

    def handle_http_exception(self, error: Any) -> Any:  # type: ignore[override]
        return handle_http_exception(error)


def init_api(app: Flask, title: str, description: str) -> SuiteApi:
    app.config.update(
        API_TITLE=title,
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/docs/assets/",
        API_SPEC_OPTIONS={
            "info": {"description": description},
            "components": {
                "securitySchemes": {
                    "organiserToken": {"type": "http", "scheme": "bearer"},
                    "serviceSignature": {"type": "apiKey", "in": "header", "name": "X-Suite-Signature"},
                }
            },
        },
    )
    api = SuiteApi(app)

    @app.get("/docs/assets/<path:filename>")
    def swagger_assets(filename: str) -> Any:
        return send_from_directory(str(swagger_ui_path), filename, max_age=3600)

    return api


ORGANISER = [{"organiserToken": []}]
# The body of a CSV download, documented beside the JSON of the same status (alt_response(..., success=True)).
CSV = {"type": "string", "description": "CSV, UTF-8, a header line first"}
SERVICE = [{"serviceSignature": []}]
