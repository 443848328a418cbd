"""Scheduled runs: cron and interval schedules fired by APScheduler inside the daemon."""
