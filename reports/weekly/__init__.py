"""The weekly report: its content, charts, templates and rendering to HTML and PDF."""
