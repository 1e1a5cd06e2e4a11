"""Developer tools: the performance benchmark (`session-analytics bench`) and the token-parity check against
ccusage (`python -m orchestration.bench.ccusage_parity`)."""
