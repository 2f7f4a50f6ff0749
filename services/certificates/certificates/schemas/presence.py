"""Shapes of presence codes at the organiser API."""
from __future__ import annotations

from marshmallow import Schema, fields

from suite_common.fields import Moment, Pattern

SESSION_CODE = Pattern(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$", error="Not a session code.")


class PresenceCodeInput(Schema):
    session = fields.String(required=True, validate=SESSION_CODE, metadata={"description": "the session's code"})
    code = fields.String(validate=Pattern(r"^[A-Za-z0-9 -]{4,20}$", error="4 to 16 letters and digits, please."),
                         metadata={"description": "the code to announce (case, spaces and dashes ignored); "
                                                  "default: 6 unambiguous letters and digits"})
    valid_from = Moment(metadata={"description": "default: the session's start"})
    valid_until = Moment(metadata={"description": "default: the session's end"})


class PresenceCodeOutput(Schema):
    id = fields.Integer()
    session = fields.String()
    code = fields.String()
    valid_from = fields.AwareDateTime()
    valid_until = fields.AwareDateTime()
    entered = fields.Integer(metadata={"description": "how many participants entered it in time"})


class PresenceCodeList(Schema):
    items = fields.List(fields.Nested(PresenceCodeOutput))
