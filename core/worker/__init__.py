"""``callboard worker``: the engine's work — claim, execute, commit — on a PostgreSQL store shared with
any number of other workers, with no API."""
