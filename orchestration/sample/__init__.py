"""The sample data generator (`session-analytics generate-sample`): `generator` writes the platform events, the
directory and the Claude Code logs, `agents` the other agents' local logs."""
