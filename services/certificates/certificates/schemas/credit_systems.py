"""An event's credit systems as the organiser sets them (inside the accreditation body)."""
from __future__ import annotations

import decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from suite_common.fields import CREDIT_SYSTEM_CODE, Decimal, DecimalText, Moment, StrictBoolean, Text

from ..services.credits import CREDIT_MODES
from ..services.identifiers import KINDS

MAX_PRESENCE_CODES = 20  # codes a session's rule may ask for; more is a typo, not a live session


def check_step(step: decimal.Decimal) -> None:
    """Credits are rounded down to multiples of the step: 0 would divide by zero."""
    if step <= 0:
        raise ValidationError("The credit step must be more than 0, e.g. 0.5 or 0.25.")


class IdentifierSpec(Schema):
    """An identifier the system's body needs to credit a learner (services/identifiers.py says which
    formats are checked, and where they are published)."""

    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    label = Text(200, load_default="", allow_blank=True,
                 metadata={"description": "what the participant's page calls it; required for free_text"})
    required = StrictBoolean(load_default=False, metadata={
        "description": "missing, the learner is not reportable to the body (the certificate still issues)"})
    consent_text = Text(2000, required=True, multiline=True, metadata={
        "description": "what the participant agrees to by giving it, as the body needs it worded",
        "example": "I agree that my board ID and month and day of birth are reported to ACCME's PARS."})

    @validates_schema
    def _free_text_labelled(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("kind") == "free_text" and not data.get("label"):
            raise ValidationError("A free text identifier needs a label.", "label")


class CreditSystemInput(Schema):
    code = fields.String(required=True, validate=CREDIT_SYSTEM_CODE,
                         metadata={"description": "unique within the event; sessions name it in their credits",
                                   "example": "ECMEC"})
    name = Text(200, required=True, metadata={"description": "the credits as printed",
                                              "example": "European CME credits (ECMEC®s)"})
    body = Text(200, required=True, metadata={"example": "EACCME®"})
    statement = Text(5000, required=True, multiline=True)
    credit_step = Decimal(24, load_default=decimal.Decimal("0.5"), metadata={"description": "more than 0"})
    credit_mode = fields.String(load_default="proportional", validate=validate.OneOf(CREDIT_MODES))
    min_session_share = Decimal(1, places=4, load_default=decimal.Decimal(0))
    max_credits = Decimal(500, allow_none=True, load_default=None)
    max_credits_per_day = Decimal(24, allow_none=True, load_default=None)
    daily_caps = fields.Dict(keys=fields.Date(), values=Decimal(24), load_default=dict,
                             metadata={"description": "a different cap for some days"})
    evaluation_required = StrictBoolean(load_default=False,
                                        metadata={"description": "no credits in this system until the evaluation"})
    claim_required = StrictBoolean(load_default=False, metadata={
        "description": "the participant claims up to what attendance supports; unclaimed, the system is not printed"})
    presence_codes_required = fields.Integer(strict=True, load_default=0,
                                             validate=validate.Range(min=0, max=MAX_PRESENCE_CODES),
                                             metadata={"description": "a session with presence codes counts only "
                                                                      "with at least this many entered; 0: no rule"})
    claim_closes_at = Moment(allow_none=True, load_default=None,
                             metadata={"description": "claims close then (claim_required only)"})
    identifiers = fields.List(fields.Nested(IdentifierSpec), load_default=list, validate=validate.Length(max=5),
                              metadata={"description": "what the body needs to credit each learner, asked on "
                                                       "the participant's page; each kind at most once"})

    @validates("identifiers")
    def _kinds_once(self, specs: list[dict[str, Any]], **_: Any) -> None:
        kinds = [spec["kind"] for spec in specs if "kind" in spec]
        if len(kinds) != len(set(kinds)):
            raise ValidationError("Ask for each kind of identifier at most once per system.")

    @validates("credit_step")
    def _positive_step(self, step: decimal.Decimal, **_: Any) -> None:
        check_step(step)

    @validates_schema
    def _claim_close_needs_claims(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("claim_closes_at") is not None and not data.get("claim_required"):
            raise ValidationError("Only a system with claim_required has claims to close.", "claim_closes_at")


class CreditSystemOutput(Schema):
    code = fields.String()
    name = fields.String()
    body = fields.String()
    statement = fields.String()
    credit_step = DecimalText()
    credit_mode = fields.String()
    min_session_share = DecimalText()
    max_credits = DecimalText(allow_none=True)
    max_credits_per_day = DecimalText(allow_none=True)
    daily_caps = fields.Dict(keys=fields.String(), values=fields.String())
    evaluation_required = fields.Boolean()
    claim_required = fields.Boolean()
    presence_codes_required = fields.Integer()
    claim_closes_at = fields.AwareDateTime(allow_none=True)
    identifiers = fields.List(fields.Dict())
