from notifications.models import Base
from suite_common.migrations import run_migrations

run_migrations(Base.metadata)
