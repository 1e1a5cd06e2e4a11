"""Developer tools run as `python -m tests.tools.<name>`."""
