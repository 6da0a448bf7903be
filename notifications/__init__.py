"""Notifications: the transactional outbox, Jinja2 mail and SMTP delivery.

Empty until the deadlines issue (#4) builds it; it must never import ``workflow``.
"""
