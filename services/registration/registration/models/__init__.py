"""Registration's tables, one module per area; imported here so metadata is complete."""
from .base import MAX_ID, Base
from .event import Event, EventSession, Rate
from .organisation import ApiToken, Organisation
from .outbox import Outbox
from .registration import Registration, RegistrationStatus

__all__ = ["MAX_ID", "ApiToken", "Base", "Event", "EventSession", "Organisation", "Outbox", "Rate", "Registration", "RegistrationStatus"]
