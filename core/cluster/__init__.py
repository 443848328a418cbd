"""The daemon's side on a shared PostgreSQL store: the API's engine operations carried out through the
database (submit, cancel, pause, status) and the events read from the outbox, so every daemon and
every worker on the same database see and drive the same queue."""
