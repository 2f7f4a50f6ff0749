"""The organisation's Zoom connection at the edge: secrets go in, never out."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

# Zoom's account and client IDs are URL-safe base64-ish tokens (e.g. "gYz8S9w5Q5yrDoIvmdClYw").
ZOOM_ID = validate.Regexp(r"^[A-Za-z0-9_\-.]{6,100}$", error="Copy it from the app's App Credentials page.")
SECRET = validate.Regexp(r"^[\x21-\x7e]{8,200}$", error="Copy it from the app's page: 8 to 200 visible characters.")


class ZoomConnectionInput(Schema):
    """A Server-to-Server OAuth app's credentials (App Credentials) and its webhook secret token
    (Feature, Event Subscriptions). A secret left out keeps the one stored; the first time both are needed."""

    account_id = fields.String(required=True, validate=ZOOM_ID)
    client_id = fields.String(required=True, validate=ZOOM_ID)
    client_secret = fields.String(load_only=True, validate=SECRET, metadata={"description": "write-only"})
    webhook_secret_token = fields.String(load_only=True, validate=SECRET, metadata={"description": "write-only"})


class ZoomConnectionOutput(Schema):
    connected = fields.Boolean()
    account_id = fields.String(allow_none=True)
    client_id = fields.String(allow_none=True)
    client_secret_set = fields.Boolean()
    webhook_secret_token_set = fields.Boolean()
    updated_at = fields.AwareDateTime(allow_none=True)


class ZoomWebinarOutput(Schema):
    slug = fields.String()
    zoom_webinar_id = fields.String()
