"""Certificates' tables; imported here so metadata is complete."""
from .accreditation import Accreditation
from .attendance import AttendanceInterval, AttendanceReport, CheckIn, Evaluation
from .audit import AuditEntry
from .base import Base
from .certificate import Certificate, CertificateRevision, IssueJob
from .guards import RateLimitCounter, SeenSignature
from .outbox import Outbox

__all__ = ["AuditEntry", "Accreditation", "AttendanceInterval", "AttendanceReport", "Base", "Certificate", "CertificateRevision",
           "CheckIn", "Evaluation", "IssueJob", "Outbox", "RateLimitCounter", "SeenSignature"]
