"""Shapes of messages at the internal and organiser APIs."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from suite_common.fields import Email, Text
from suite_common.i18n import SUPPORTED_LANGUAGES
from suite_common.routing import INT32_MAX, Id

MAX_ATTACHMENT_BYTES = 2 * 1024 * 1024
STATUSES = ("queued", "sending", "sent", "failed", "cancelled")


class AttachmentInput(Schema):
    filename = fields.String(required=True, validate=validate.Regexp(r"^[\w.\- ]{1,100}$"))
    content_type = fields.String(required=True, validate=validate.Regexp(r"^[a-z]+/[a-z0-9.+-]+$"))
    content_base64 = fields.String(required=True, validate=validate.Length(max=MAX_ATTACHMENT_BYTES * 4 // 3 + 4))
    method = fields.String(validate=validate.OneOf(("PUBLISH", "REQUEST", "CANCEL")),
                           metadata={"description": "iTIP method, for text/calendar attachments"})


class MessageInput(Schema):
    idempotency_key = fields.String(required=True, validate=validate.Length(min=1, max=200))
    template = fields.String(required=True, validate=validate.Length(min=1, max=60))
    to = Email(required=True)
    context = fields.Dict(keys=fields.String(), load_default=dict)
    send_at = fields.AwareDateTime(allow_none=True)
    attachments = fields.List(fields.Nested(AttachmentInput), validate=validate.Length(max=5), load_default=list)
    organisation_id = Id(max=INT32_MAX, allow_none=True, metadata={"description": "whose organisers may list it"})
    event = fields.String(allow_none=True, validate=validate.Length(max=64),
                          metadata={"description": "event slug; selects the organiser's template override"})
    unsubscribe_url = fields.Url(allow_none=True, validate=validate.Length(max=500),
                                 metadata={"description": "for announcements: RFC 8058 one-click unsubscribe"})
    language = fields.String(load_default="en", validate=validate.OneOf(SUPPORTED_LANGUAGES),
                             metadata={"description": "the registration's language: the mail is written in it"})

    @validates("context")
    def _small_context(self, value: dict[str, Any], **_: Any) -> None:
        if len(str(value)) > 64_000:
            raise ValidationError("The context is too large.")


class MessageAccepted(Schema):
    id = fields.Integer()
    status = fields.String()


class MessageOutput(Schema):
    id = fields.Integer()
    idempotency_key = fields.String()
    to = fields.String(attribute="recipient")
    template = fields.String()
    event = fields.String(attribute="event_slug", allow_none=True)
    status = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    send_at = fields.AwareDateTime()
    sent_at = fields.AwareDateTime(allow_none=True)
    message_id = fields.String()
    created_at = fields.AwareDateTime()


class MessageQuery(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    to = fields.String(validate=validate.Length(max=254))
    event = fields.String(validate=validate.Length(max=64))
    cursor = Id(metadata={"description": "next_cursor of the last page"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class MessagePage(Schema):
    items = fields.List(fields.Nested(MessageOutput))
    next_cursor = fields.Integer(allow_none=True)


class TemplateInput(Schema):
    subject = Text(300, required=True)
    text = Text(50_000, required=True, multiline=True)
    html = fields.String(allow_none=True, validate=validate.Length(max=100_000),
                         metadata={"description": "the body; without it the text is shown as HTML paragraphs"})


class TemplateOutput(TemplateInput):
    event = fields.String(attribute="event_slug")
    template = fields.String()
    updated_at = fields.AwareDateTime()


class TemplateWording(TemplateInput):
    """The wording an event's messages of one type use, overridden or shipped."""

    event = fields.String()
    template = fields.String()
    overridden = fields.Boolean()
    updated_at = fields.AwareDateTime(allow_none=True)


class TemplateWordingList(Schema):
    items = fields.List(fields.Nested(TemplateWording))
