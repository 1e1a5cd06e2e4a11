"""Collecting agent logs from laptops: the client (`session-analytics collect`) and the server side that files
the uploads."""
