/* grain: one row per API request seen in Claude Code transcripts, deduplicated across every file and user.
   The same request is written many times: one line per content block, streamed partial lines with smaller
   output counts, replays in resumed sessions (new sessionId), sidechain copies, and (2.1.x) agent_progress
   copies of subagent responses in the parent's file. Like ccusage: one request per (message.id, requestId)
   -- or per message.id where requestId is missing --, the main-session copy before a sidechain copy, then
   the copy with the largest token total, then the first in file order. An agent_progress copy is a sidechain
   copy here (ccusage takes it for a main copy, so it may keep a copied partial line over the subagent's final
   line: see the README). <synthetic> error stubs are not requests. */
with lines as (

    select
        *,
        input_tokens + output_tokens + cache_creation_input_tokens + cache_read_input_tokens as line_total_tokens,
        {{ claude_code_request_key() }} as request_key

    from {{ ref('stg_claude_code__usage_lines') }}
    where coalesce(model, '') <> '<synthetic>'

),

lines_in_scope as (

    -- Every copy of each request an affected session has a copy of, whichever session the copy is in, so the
    -- copy that wins below is the one a full build picks.
    select * from lines
    where request_key in (select request_key from lines where {{ only_affected_sessions('session_id') }})

),

ranked as (

    select
        *,
        row_number() over (
            partition by request_key
            order by case when is_sidechain then 1 else 0 end, line_total_tokens desc, source_file, line_number
        ) as copy_rank

    from lines_in_scope

)

select
    'claude_code' as source,
    users.org_id,
    ranked.request_key,
    cast(null as {{ dbt.type_string() }}) as event_id,
    ranked.request_id,
    ranked.session_id,
    ranked.event_at_utc,
    coalesce(ranked.model, 'unknown') as model,
    ranked.input_tokens,
    ranked.output_tokens,
    ranked.cache_creation_input_tokens,
    ranked.cache_read_input_tokens,
    ranked.cache_creation_5m_input_tokens,
    ranked.cache_creation_1h_input_tokens,
    cast(null as double) as reported_cost_usd

from ranked
inner join {{ ref('int_users_resolved_by_email') }} as users
    on ranked.user_email = users.user_email
where ranked.copy_rank = 1
