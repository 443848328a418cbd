"""What the API's handlers and the daemon's own timers do beyond one query, below both of them: writes
to the test catalogue (``catalogue``), settling the heap after it changes (``heap``) and pruning
history (``housekeeping``). The API checks a request and maps errors to statuses; the work is here."""
