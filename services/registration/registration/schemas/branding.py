"""Shapes of the organisation's branding (its look on pages, mails and documents)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from suite_common.fields import Email, Pattern, Text

COLOUR_PATTERN = r"^#[0-9a-fA-F]{6}$"


class BrandingInput(Schema):
    """Every field at once (PUT): a field left out or null goes back to the suite's default."""

    display_name = Text(200, allow_none=True, load_default=None,
                        metadata={"description": "the society's name in page headers, mails and documents"})
    primary_colour = fields.String(
        allow_none=True, load_default=None, validate=Pattern(COLOUR_PATTERN, error="Use a colour as #RRGGBB."),
        metadata={"description": "#RRGGBB; the text on it is black or white, whichever contrasts more "
                                 "(WCAG AA for any colour)"})
    footer_text = Text(1000, allow_none=True, load_default=None, multiline=True,
                       metadata={"description": "address, registered numbers: the footer of pages, mails and PDFs"})
    privacy_url = fields.Url(allow_none=True, load_default=None, schemes={"https"}, require_tld=True,
                             validate=validate.Length(max=500),
                             metadata={"description": "the society's privacy policy (https)"})
    reply_to = Email(allow_none=True, load_default=None,
                     metadata={"description": "Reply-To of every mail sent for the society"})


class LogoOutput(Schema):
    content_type = fields.String()
    width = fields.Integer()
    height = fields.Integer()
    bytes = fields.Integer()
    url = fields.String(metadata={"description": "where pages load it from (public)"})


class BrandingOutput(Schema):
    display_name = fields.String(allow_none=True)
    primary_colour = fields.String(allow_none=True)
    text_colour = fields.String(metadata={"description": "black or white: the text colour chosen on primary_colour"})
    footer_text = fields.String(allow_none=True)
    privacy_url = fields.String(allow_none=True)
    reply_to = fields.String(allow_none=True)
    logo = fields.Nested(LogoOutput, allow_none=True)


class LogoUpload(Schema):
    file = fields.Raw(metadata={"type": "string", "format": "binary",
                                "description": "PNG or JPEG, at most 512 KB and 2000 × 2000 pixels"})


class InternalLogo(Schema):
    content_type = fields.String()
    base64 = fields.String()


class InternalBranding(Schema):
    organisation_id = fields.Integer()
    display_name = fields.String(allow_none=True)
    primary_colour = fields.String()
    text_colour = fields.String()
    footer_text = fields.String(allow_none=True)
    privacy_url = fields.String(allow_none=True)
    reply_to = fields.String(allow_none=True)
    logo = fields.Nested(InternalLogo, allow_none=True)
