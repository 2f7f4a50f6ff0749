"""Attendance, check-in, accreditation rules, evaluation questions, certificates (placeholder, being built)."""
from __future__ import annotations
