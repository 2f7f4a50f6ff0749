"""OpenAPI generated from the marshmallow schemas (flask-smorest), served at
``/openapi.json`` with a browsable ``/docs`` whose assets ship with the package,
so the page works without a network."""
from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Flask, send_from_directory
from flask_smorest import Api
from swagger_ui_bundle import swagger_ui_path

from .errors import handle_http_exception


class ErrorDetail(ma.Schema):
    code = ma.fields.String(metadata={"example": "validation_error"})
    message = ma.fields.String()
    fields = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(),
                            metadata={"description": "field name to its problems"})


class ErrorBody(ma.Schema):
    error = ma.fields.Nested(ErrorDetail)


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
