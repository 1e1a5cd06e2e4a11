/* grain: one row per lower-cased email seen in transcripts, OTel or the other agents' logs: the directory user it belongs to, or an
   unknown user (user_id = the email) of the default org. */
with emails as (

    select distinct user_email from {{ ref('stg_claude_code__session_spans') }}
    union
    select distinct user_email from {{ ref('stg_otel__events') }} where user_email is not null
    union
    select distinct user_email from ({{ agent_log_union('requests') }}) as agent_log_requests
    union
    select distinct user_email from ({{ agent_log_union('sessions') }}) as agent_log_sessions

),

directory as (

    select lower(email) as user_email, user_id, org_id,
           row_number() over (partition by lower(email) order by user_id) as email_rank
    from {{ ref('stg_directory__users') }}
    where email is not null

),

default_org as (

    select coalesce(
        nullif('{{ var("default_org") }}', ''),
        (select case when count(*) = 1 then min(org_id) end from {{ ref('stg_directory__orgs') }}),
        'unassigned'
    ) as org_id

)

select
    emails.user_email,
    coalesce(directory.org_id, default_org.org_id) as org_id,
    coalesce(directory.user_id, emails.user_email) as user_id,
    directory.user_id is not null as in_directory

from emails
cross join default_org
left join directory
    on emails.user_email = directory.user_email and directory.email_rank = 1
