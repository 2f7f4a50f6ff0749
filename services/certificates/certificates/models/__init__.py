"""Certificates' tables; imported here so metadata is complete."""
from .accreditation import Accreditation
from .attendance import AttendanceInterval, AttendanceReport, CheckIn, Evaluation
from .audit import AuditEntry
from .base import Base
from .certificate import Certificate, CertificateRevision, IssueJob
from .credentials import SigningKey, StatusEntry, StatusList
from .credit_system import CreditSystem
from .guards import RateLimitCounter, SeenSignature
from .identifier import LearnerIdentifier
from .outbox import Outbox
from .presence import Claim, PresenceAttempt, PresenceCode, PresenceConfirmation
from .transcript import TranscriptLink

__all__ = ["AuditEntry", "Accreditation", "AttendanceInterval", "AttendanceReport", "Base", "Certificate", "CertificateRevision",
           "CheckIn", "Claim", "CreditSystem", "Evaluation", "IssueJob", "LearnerIdentifier", "Outbox", "PresenceAttempt",
           "PresenceCode", "PresenceConfirmation", "RateLimitCounter", "SeenSignature", "SigningKey",
           "StatusEntry", "StatusList", "TranscriptLink"]
