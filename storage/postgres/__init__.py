"""callboard storage on PostgreSQL (``store.url = "postgresql://…"``, extra ``callboard[postgres]``)."""
