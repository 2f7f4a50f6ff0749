"""Notifications' tables; imported here so metadata is complete."""
from .base import Base
from .message import Message, MessageStatus, TemplateOverride

__all__ = ["Base", "Message", "MessageStatus", "TemplateOverride"]
