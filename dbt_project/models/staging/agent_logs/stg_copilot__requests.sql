-- grain: one row per model request record of a copilot log file (source_file, line_number, session_id, request_key).
{{ agent_log_staged('copilot', 'requests') }}
