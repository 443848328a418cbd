"""Notifications when a batch finishes: webhooks (JSON or Slack), email and command hooks.

Nothing is imported here, so the settings (``callboard.core.notify.settings``) load without the senders'
HTTP and SMTP stacks — the CLI client imports the settings and must start fast.
"""
