"""The organiser's credit rules and certificate text."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from suite_common.fields import Decimal, DecimalText, Pattern, StrictBoolean, Text

from ..services.credits import CREDIT_MODES

STEPS = ("0.25", "0.5", "1")


class QuestionInput(Schema):
    id = fields.String(required=True, validate=Pattern(r"^[a-z0-9_]{1,40}$"))
    text = Text(500, required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("rating", "text", "yes_no")),
                         metadata={"description": "rating is 1-5"})
    required = StrictBoolean(load_default=True)


class AccreditationInput(Schema):
    body = Text(200, required=True, metadata={"example": "EACCME®"})
    credit_unit = Text(200, load_default="European CME credits (ECMEC®s)")
    statement = Text(5000, required=True, multiline=True)
    max_credits = Decimal(500, allow_none=True, load_default=None)
    credit_step = fields.String(load_default="0.5", validate=validate.OneOf(STEPS))
    credit_mode = fields.String(load_default="proportional", validate=validate.OneOf(CREDIT_MODES))
    min_session_share = Decimal(1, places=4, load_default="0")
    max_credits_per_day = Decimal(24, allow_none=True, load_default=None)
    daily_caps = fields.Dict(keys=fields.Date(), values=Decimal(24),
                             load_default=dict, metadata={"description": "a different cap for some days"})
    evaluation_required = StrictBoolean(load_default=False)
    evaluation_questions = fields.List(fields.Nested(QuestionInput), load_default=list,
                                       validate=validate.Length(max=30))
    signatory = Text(200, required=True)
    signatory_title = Text(200, allow_blank=True, load_default="")
    organisation_name = Text(200, allow_blank=True, load_default="",
                             metadata={"description": "printed on the certificate; defaults to the organisation"})

    @validates("evaluation_questions")
    def _unique_ids(self, questions: list[dict[str, Any]], **_: Any) -> None:
        ids = [q["id"] for q in questions if "id" in q]  # a question without one is reported on its own
        if len(ids) != len(set(ids)):
            raise ValidationError("Question ids must be unique.")

    @validates_schema
    def _questions_when_required(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("evaluation_required") and not data.get("evaluation_questions"):
            raise ValidationError("Give the evaluation questions when an evaluation is required.",
                                  "evaluation_questions")


class AccreditationOutput(Schema):
    event = fields.String(attribute="event_slug")
    body = fields.String()
    credit_unit = fields.String()
    statement = fields.String()
    max_credits = DecimalText(allow_none=True)
    credit_step = DecimalText()
    credit_mode = fields.String()
    min_session_share = DecimalText()
    max_credits_per_day = DecimalText(allow_none=True)
    daily_caps = fields.Dict()
    evaluation_required = fields.Boolean()
    evaluation_questions = fields.List(fields.Dict())
    signatory = fields.String(attribute="signatory_name")
    signatory_title = fields.String()
    organisation_name = fields.String()
    has_logo = fields.Function(lambda a: a.logo_png is not None)
    has_signature = fields.Function(lambda a: a.signature_png is not None)
    updated_at = fields.AwareDateTime()
