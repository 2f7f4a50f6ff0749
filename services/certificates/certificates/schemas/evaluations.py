"""The evaluation results an accreditor asks for: per question, overall and per session."""
from __future__ import annotations

from marshmallow import Schema, fields


class QuestionResult(Schema):
    id = fields.String()
    text = fields.String()
    kind = fields.String(metadata={"description": "rating (1-5), yes_no or text"})
    answers = fields.Integer(metadata={"description": "how many answered this question"})
    mean = fields.String(allow_none=True, metadata={"description": "ratings only: the mean, 2 decimal places",
                                                    "example": "4.33"})
    distribution = fields.Dict(keys=fields.String(), values=fields.Integer(), allow_none=True,
                               metadata={"description": "ratings: count per rating 1-5; yes_no: count of yes and no"})
    texts = fields.List(fields.String(), allow_none=True,
                        metadata={"description": "free text only: the answers, sorted, linked to no one"})


class OverallResults(Schema):
    responses = fields.Integer(metadata={"description": "evaluations the participants completed here"})
    recorded_elsewhere = fields.Integer(metadata={"description": "recorded by the organiser (paper, another "
                                                                 "tool): counted as done, no answers"})
    questions = fields.List(fields.Nested(QuestionResult))


class SessionResults(Schema):
    code = fields.String()
    title = fields.String()
    responses = fields.Integer()
    questions = fields.List(fields.Nested(QuestionResult))


class EvaluationResults(Schema):
    event = fields.String()
    overall = fields.Nested(OverallResults)
    sessions = fields.List(fields.Nested(SessionResults))
