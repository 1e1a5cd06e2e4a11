-- grain: one row per session record of a gemini log file (source_file, line_number, session_id).
{{ agent_log_staged('gemini', 'sessions') }}
