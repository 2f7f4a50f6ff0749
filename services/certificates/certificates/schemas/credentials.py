"""Shapes of the public verification of signed credentials."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

MAX_CREDENTIAL_CHARS = 65536


class VerifyInput(Schema):
    credential = fields.String(required=True, validate=validate.Length(min=1, max=MAX_CREDENTIAL_CHARS), metadata={
        "description": "a signed Open Badges 3.0 credential as a VC-JWT (compact JWS), as credential_url serves it"})


class VerifyChecks(Schema):
    signature = fields.String(metadata={"description": "valid, invalid or not_checked"})
    issuer = fields.String(metadata={"description": "known (one of our organisations' keys signed it, and the "
                                                    "credential names that organisation), unknown, mismatch or "
                                                    "not_checked"})
    status = fields.String(metadata={"description": "active, revoked (in the issuer's Bitstring Status List), "
                                                    "unknown or not_checked"})
    expiry = fields.String(metadata={"description": "valid, expired, not_yet_valid or not_checked"})


class CredentialSummary(Schema):
    id = fields.String(allow_none=True)
    subject_name = fields.String(allow_none=True)
    achievement = fields.String(allow_none=True)
    credits = fields.Raw(allow_none=True, metadata={"description": "creditsEarned, as the credential says it"})
    issuer = fields.String(allow_none=True)
    valid_from = fields.String(allow_none=True)


class VerifyOutput(Schema):
    valid = fields.Boolean(metadata={"description": "true when every check holds"})
    checks = fields.Nested(VerifyChecks)
    credential = fields.Nested(CredentialSummary, allow_none=True,
                               metadata={"description": "what the credential says; only when its signature holds"})
    errors = fields.List(fields.String())
