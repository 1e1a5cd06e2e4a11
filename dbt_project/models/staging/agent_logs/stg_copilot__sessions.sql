-- grain: one row per session record of a copilot log file (source_file, line_number, session_id).
{{ agent_log_staged('copilot', 'sessions') }}
