"""The analytics dashboard: server-rendered pages on the API's app (routes), sign-in sessions, templates, static."""
