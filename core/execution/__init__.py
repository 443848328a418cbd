"""What the executors and the adapters they use (telephony, voice, llm) share, below all of them: the
interface of one attempt (``Job`` in, ``Outcome`` out, the errors the engine understands) and the pooled
HTTP client with its words for HTTP failures (also used by the webhook notifier)."""
