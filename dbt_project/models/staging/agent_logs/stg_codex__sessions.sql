-- grain: one row per session record of a codex log file (source_file, line_number, session_id).
{{ agent_log_staged('codex', 'sessions') }}
