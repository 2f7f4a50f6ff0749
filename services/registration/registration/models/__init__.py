"""Registration's tables, one module per area; imported here so metadata is complete."""
from .audit import AuditEntry
from .base import MAX_ID, Base
from .event import DiscountCode, Event, EventSession, Rate, RegistrationWorkshop
from .faculty import DisclosureStatus, FacultyMember, FacultyRole, FinancialRelationship
from .guards import RateLimitCounter, SeenSignature
from .member import Member
from .organisation import ApiToken, Organisation
from .organiser import ConsoleSession, OrganiserAccount, Role, SignInLink
from .outbox import Outbox
from .payment import Document, DocumentCounter, StripeEvent
from .registration import Registration, RegistrationStatus
from .zoom import ZoomConnection, ZoomRegistrant
from .zoom_reports import ZoomReportFetch, ZoomWebhookEvent

__all__ = ["AuditEntry", "MAX_ID", "ApiToken", "Base", "ConsoleSession", "OrganiserAccount", "Role", "SignInLink", "DiscountCode", "DisclosureStatus", "Document", "DocumentCounter", "Event", "EventSession", "FacultyMember", "FacultyRole", "FinancialRelationship", "Member", "Organisation", "Outbox", "Rate", "RateLimitCounter", "Registration", "RegistrationStatus", "RegistrationWorkshop", "SeenSignature", "StripeEvent", "ZoomConnection", "ZoomRegistrant", "ZoomReportFetch", "ZoomWebhookEvent"]
