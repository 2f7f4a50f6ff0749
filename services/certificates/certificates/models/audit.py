from suite_common.audit import AuditMixin

from .base import Base


class AuditEntry(AuditMixin, Base):
    """What organisers did in this service."""
