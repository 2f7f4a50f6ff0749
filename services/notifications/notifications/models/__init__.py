"""Notifications' tables; imported here so metadata is complete."""
from .audit import AuditEntry
from .base import Base
from .guards import SeenSignature
from .message import Message, MessageStatus, TemplateOverride

__all__ = ["AuditEntry", "Base", "Message", "MessageStatus", "SeenSignature", "TemplateOverride"]
