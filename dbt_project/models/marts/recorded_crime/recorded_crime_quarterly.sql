-- Recorded offences per quarter for each police force area (British Transport Police
-- included) and for England and Wales, for the platform's offence codes only.
-- Grain: area x period_end x offence_code.

with

recorded_crime as (
    select * from {{ ref('stg_home_office__recorded_crime') }}
),

forces as (
    select * from {{ ref('forces') }}
),

-- Rows of a police force (area_code set: central fraud bodies have none) for a code
-- that is one of the platform's in that period (offence_group set).
platform_force_rows as (
    select
        area_code,
        financial_year,
        financial_quarter,
        period_end,
        offence_code,
        offence_group,
        offences
    from recorded_crime
    where area_code is not null
        and offence_group is not null
),

force_quarters as (
    select
        platform_force_rows.area_code,
        forces.area_name,
        'force' as area_type,
        platform_force_rows.financial_year,
        platform_force_rows.financial_quarter,
        platform_force_rows.period_end,
        platform_force_rows.offence_code,
        platform_force_rows.offence_group,
        platform_force_rows.offences
    from platform_force_rows
    inner join forces
        on platform_force_rows.area_code = forces.area_code
),

-- England and Wales: the sum over every force that reported the quarter. A quarter
-- in which any force's count is suppressed has no national total (NULL), rather
-- than a total silently short of that force.
national_quarters as (
    {{ national_rows(
        'force_quarters',
        ['financial_year', 'financial_quarter', 'period_end', 'offence_code', 'offence_group'],
        complete_sum('offences') ~ ' as offences'
    ) }}
),

all_areas as (
    select * from force_quarters
    union all
    select * from national_quarters
),

final as (
    select
        cast(area_code as varchar) as area_code,
        cast(area_name as varchar) as area_name,
        cast(area_type as varchar) as area_type,
        cast(financial_year as varchar) as financial_year,
        cast(financial_quarter as integer) as financial_quarter,
        cast(period_end as date) as period_end,
        cast(offence_code as varchar) as offence_code,
        cast(offence_group as varchar) as offence_group,
        cast(offences as bigint) as offences
    from all_areas
)

select * from final
