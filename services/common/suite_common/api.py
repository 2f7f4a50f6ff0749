"""OpenAPI generated from the marshmallow schemas (flask-smorest), served at
``/openapi.json`` with a browsable ``/docs`` whose assets ship with the package,
so the page works without a network."""
from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from flask import Flask, Request, send_from_directory
from flask_smorest import Api, Blueprint
from swagger_ui_bundle import swagger_ui_path
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from .errors import handle_http_exception


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
    """

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


class SuiteBlueprint(Blueprint):
    """flask-smorest's Blueprint reading JSON bodies strictly; every suite API blueprint uses it."""

    ARGUMENTS_PARSER = StrictJsonParser()


class SuiteApi(Api):
    """flask-smorest with the suite's error body instead of its own."""

    ERROR_SCHEMA = ErrorBody

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
SERVICE = [{"serviceSignature": []}]
