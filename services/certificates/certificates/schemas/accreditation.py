"""The organiser's credit rules and certificate text."""
from __future__ import annotations

import decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from suite_common.fields import MAX_CREDIT_SYSTEMS, Decimal, DecimalText, Pattern, StrictBoolean, Text

from ..services.credit_systems import SINGLE_SYSTEM_FIELDS
from ..services.credits import CREDIT_MODES
from .credit_systems import CreditSystemInput, CreditSystemOutput, check_step


class QuestionInput(Schema):
    id = fields.String(required=True, validate=Pattern(r"^[a-z0-9_]{1,40}$"))
    text = Text(500, required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("rating", "text", "yes_no")),
                         metadata={"description": "rating is 1-5"})
    required = StrictBoolean(load_default=True)


class AccreditationInput(Schema):
    body = Text(200, metadata={"example": "EACCME®", "description": "required unless credit_systems is given"})
    credit_unit = Text(200, load_default="European CME credits (ECMEC®s)")
    statement = Text(5000, multiline=True, metadata={"description": "required unless credit_systems is given"})
    max_credits = Decimal(500, allow_none=True, load_default=None)
    credit_step = Decimal(24, load_default=decimal.Decimal("0.5"), metadata={"description": "credits go in steps of this, e.g. 0.5 "
                                                                          "(EACCME) or 0.25 (AMA, ARRT); more than 0"})
    credit_mode = fields.String(load_default="proportional", validate=validate.OneOf(CREDIT_MODES))
    min_session_share = Decimal(1, places=4, load_default="0")
    max_credits_per_day = Decimal(24, allow_none=True, load_default=None)
    daily_caps = fields.Dict(keys=fields.Date(), values=Decimal(24),
                             load_default=dict, metadata={"description": "a different cap for some days"})
    evaluation_required = StrictBoolean(load_default=False)
    evaluation_questions = fields.List(fields.Nested(QuestionInput), load_default=list,
                                       validate=validate.Length(max=30))
    session_questions = fields.List(fields.Nested(QuestionInput), load_default=list,
                                    validate=validate.Length(max=10),
                                    metadata={"description": "asked once for each session the participant attended"})
    signatory = Text(200, required=True)
    signatory_title = Text(200, allow_blank=True, load_default="")
    organisation_name = Text(200, allow_blank=True, load_default="",
                             metadata={"description": "printed on the certificate; defaults to the organisation"})
    credit_systems = fields.List(fields.Nested(CreditSystemInput), validate=validate.Length(min=1, max=MAX_CREDIT_SYSTEMS),
                                 metadata={"description": "several credit systems, the first the event's primary one; "
                                                          "without it, the top-level rules are the one system CME"})

    @validates("credit_step")
    def _positive_step(self, step: decimal.Decimal, **_: Any) -> None:
        check_step(step)

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _one_system_or_several(self, data: dict[str, Any], original: Any, **_: Any) -> None:
        """Either today's body (the rules at the top level) or ``credit_systems``, never both: a rule
        given twice could only be ignored in one place. Runs even when a field is invalid, so a
        missing body or statement is reported with every other error at once."""
        sent = original if isinstance(original, dict) else {}
        if "credit_systems" not in sent:
            missing = {name: ["Missing data for required field."] for name in ("body", "statement") if name not in sent}
            if missing:
                raise ValidationError(missing)
            return
        if "credit_systems" not in data:
            return  # refused on its own
        given = sorted(SINGLE_SYSTEM_FIELDS & set(original)) if isinstance(original, dict) else []
        if given:
            raise ValidationError(f"With credit_systems, give {', '.join(given)} in each system instead of at "
                                  "the top level.", "credit_systems")
        # A system whose code is invalid has none here (reported on its own, with every other error).
        codes = [system["code"] for system in data["credit_systems"] if "code" in system]
        repeated = sorted({code for code in codes if codes.count(code) > 1})
        if repeated:
            raise ValidationError(f"Each credit system needs its own code: {', '.join(repeated)} is given more "
                                  "than once.", "credit_systems")

    @validates("evaluation_questions", "session_questions")
    def _unique_ids(self, questions: list[dict[str, Any]], **_: Any) -> None:
        ids = [q["id"] for q in questions if "id" in q]  # a question without one is reported on its own
        if len(ids) != len(set(ids)):
            raise ValidationError("Question ids must be unique.")

    @validates_schema
    def _questions_when_required(self, data: dict[str, Any], **_: Any) -> None:
        required = data.get("evaluation_required") or any(
            system.get("evaluation_required") for system in data.get("credit_systems", ()))
        if required and not data.get("evaluation_questions"):
            raise ValidationError("Give the evaluation questions when an evaluation is required.",
                                  "evaluation_questions")


class AccreditationOutput(Schema):
    event = fields.String(attribute="event_slug")
    # The first credit system's rules, for callers that know one system (the single-system body).
    body = fields.String(attribute="first_system.body")
    credit_unit = fields.String(attribute="first_system.name")
    statement = fields.String(attribute="first_system.statement")
    max_credits = DecimalText(attribute="first_system.max_credits", allow_none=True)
    credit_step = DecimalText(attribute="first_system.credit_step")
    credit_mode = fields.String(attribute="first_system.credit_mode")
    min_session_share = DecimalText(attribute="first_system.min_session_share")
    max_credits_per_day = DecimalText(attribute="first_system.max_credits_per_day", allow_none=True)
    daily_caps = fields.Dict(attribute="first_system.daily_caps")
    evaluation_required = fields.Boolean()
    evaluation_questions = fields.List(fields.Dict())
    session_questions = fields.List(fields.Dict())
    credit_systems = fields.List(fields.Nested(CreditSystemOutput))
    signatory = fields.String(attribute="signatory_name")
    signatory_title = fields.String()
    organisation_name = fields.String()
    has_logo = fields.Function(lambda a: a.logo_png is not None)
    has_signature = fields.Function(lambda a: a.signature_png is not None)
    updated_at = fields.AwareDateTime()
