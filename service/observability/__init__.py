"""What a running service tells its operators: Prometheus metrics (`metrics`, with the index's
size read at scrape time in `index_metrics`), each request measured once (`requests`: its
metrics and its access log line), work slots that count their refusals (`slots`), and the log
format (`logs`: text or one JSON object per line)."""
