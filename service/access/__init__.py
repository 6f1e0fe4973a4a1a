"""Who may read which papers: roles granting access levels, API keys, the audit log and
per-key rate limits."""
