"""The organiser's credit rules and certificate text."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from ..services.credits import CREDIT_MODES

STEPS = ("0.25", "0.5", "1")


def _decimal(**kwargs: Any) -> fields.Decimal:
    return fields.Decimal(places=2, as_string=True, allow_nan=False, **kwargs)


class QuestionInput(Schema):
    id = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_]{1,40}$"))
    text = fields.String(required=True, validate=validate.Length(min=1, max=500))
    kind = fields.String(required=True, validate=validate.OneOf(("rating", "text", "yes_no")),
                         metadata={"description": "rating is 1-5"})
    required = fields.Boolean(load_default=True)


class AccreditationInput(Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=200),
                         metadata={"example": "EACCME®"})
    credit_unit = fields.String(load_default="European CME credits (ECMEC®s)", validate=validate.Length(max=200))
    statement = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    max_credits = _decimal(allow_none=True, load_default=None, validate=validate.Range(min=0, max=500))
    credit_step = fields.String(load_default="0.5", validate=validate.OneOf(STEPS))
    credit_mode = fields.String(load_default="proportional", validate=validate.OneOf(CREDIT_MODES))
    min_session_share = fields.Decimal(load_default="0", places=4, as_string=True, allow_nan=False,
                                       validate=validate.Range(min=0, max=1))
    max_credits_per_day = _decimal(allow_none=True, load_default=None, validate=validate.Range(min=0, max=24))
    daily_caps = fields.Dict(keys=fields.Date(), values=_decimal(validate=validate.Range(min=0, max=24)),
                             load_default=dict, metadata={"description": "a different cap for some days"})
    evaluation_required = fields.Boolean(load_default=False)
    evaluation_questions = fields.List(fields.Nested(QuestionInput), load_default=list,
                                       validate=validate.Length(max=30))
    signatory = fields.String(required=True, validate=validate.Length(min=1, max=200))
    signatory_title = fields.String(load_default="", validate=validate.Length(max=200))
    organisation_name = fields.String(load_default="", validate=validate.Length(max=200),
                                      metadata={"description": "printed on the certificate; defaults to the organisation"})

    @validates("evaluation_questions")
    def _unique_ids(self, questions: list[dict[str, Any]], **_: Any) -> None:
        ids = [q["id"] for q in questions]
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
    max_credits = fields.Decimal(as_string=True, allow_none=True)
    credit_step = fields.Decimal(as_string=True)
    credit_mode = fields.String()
    min_session_share = fields.Decimal(as_string=True)
    max_credits_per_day = fields.Decimal(as_string=True, allow_none=True)
    daily_caps = fields.Dict()
    evaluation_required = fields.Boolean()
    evaluation_questions = fields.List(fields.Dict())
    signatory = fields.String(attribute="signatory_name")
    signatory_title = fields.String()
    organisation_name = fields.String()
    has_logo = fields.Function(lambda a: a.logo_png is not None)
    has_signature = fields.Function(lambda a: a.signature_png is not None)
    updated_at = fields.AwareDateTime()
