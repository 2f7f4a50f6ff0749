"""Shared foundation of the suite's services.

Nothing in here knows about events, messages or certificates: only what every
service needs to run (settings, database, errors, auth, HTTP, health, OpenAPI, logs).
"""
