"""Chat models: chosen by settings (models.py), called under a deadline (deadline.py), given
prompts from `prompts/` (prompts.py), their replies read (replies.py); failures are
`UpstreamError`/`UpstreamTimeout` (errors.py)."""
