"""Shapes of the organisation's member list."""
from __future__ import annotations

from marshmallow import Schema, fields, validate


class MemberUpload(Schema):
    file = fields.Raw(metadata={
        "type": "string", "format": "binary",
        "description": "CSV, UTF-8 with or without BOM, comma- or semicolon-separated; the first line names the "
                       "columns: email and/or member_number, optionally name"})


class MemberQuery(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))
    cursor = fields.String(validate=validate.Length(max=200))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    bom = fields.Boolean(load_default=False, metadata={"description": "start the CSV with a UTF-8 BOM (for Excel)"})


class MemberOutput(Schema):
    email = fields.String(attribute="email_normalised", allow_none=True)
    member_number = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()


class MemberPage(Schema):
    count = fields.Integer(metadata={"description": "members on the list"})
    items = fields.List(fields.Nested(MemberOutput))
    next_cursor = fields.String(allow_none=True)


class MemberImportResult(Schema):
    count = fields.Integer(metadata={"description": "members on the list after the import"})
    added = fields.Integer()
    updated = fields.Integer(metadata={"description": "listed members whose email, number or name the file changed"})
    unchanged = fields.Integer()
    removed = fields.Integer(metadata={"description": "replace: members on the list before"})
