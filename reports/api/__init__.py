"""The analytics HTTP API: the app, its tokens and the CSV form of the answers."""
