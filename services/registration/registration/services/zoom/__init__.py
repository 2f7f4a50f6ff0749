"""Zoom: an organisation's Server-to-Server OAuth app (``connection``), the API client with its
shared token cache and Zoom's rate limits (``client``), and webinar registrants kept in step with
registrations through the outbox (``registrants``, ``webinars``).

Public for the attendance side (webhook, participants report): ``connection.webhook_secrets_for_account``,
``connection.client_for``, ``client.ZoomClient.get_json`` and the errors of ``client``.
"""
