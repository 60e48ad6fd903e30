-- Crime outcomes assigned in each financial quarter, per area (every police force
-- area, British Transport Police included, and England and Wales), offence group
-- and outcome group, on the closed basis: outcomes assigned in the quarter,
-- whatever quarter the crime was recorded in (the basis the 2017 inspection's
-- Table 1 uses). Type 0, not yet assigned an outcome, is left out: it is not an
-- outcome. Grain: area x period_end x offence_group x outcome_group.
--
-- `is_complete` is set per area, quarter and offence group: true when the area
-- published the quarter for that offence and no assigned outcome's count is
-- suppressed or missing (`N/A - data not provided`). The rolling windows in
-- outcomes_12m use only complete quarters. England and Wales is complete only
-- when every force that published the offence that quarter is.

with

outcomes as (
    select * from {{ ref('stg_home_office__outcomes') }}
),

forces as (
    select * from {{ ref('forces') }}
),

force_rows as (
    select
        outcomes.area_code,
        forces.area_name,
        outcomes.period_end,
        outcomes.offence_group,
        outcomes.outcome_group_key as outcome_group,
        outcomes.outcomes_closed_basis as outcomes
    from outcomes
    inner join forces
        on outcomes.area_code = forces.area_code
    where outcomes.offence_group is not null
        and outcomes.is_assigned_outcome
),

-- A quarter of an offence whose every outcome row is type 0 is still published:
-- it is complete with no assigned outcomes.
published_quarters as (
    select distinct
        outcomes.area_code,
        outcomes.period_end,
        outcomes.offence_group
    from outcomes
    inner join forces
        on outcomes.area_code = forces.area_code
    where outcomes.offence_group is not null
),

force_completeness as (
    select
        published_quarters.area_code,
        published_quarters.period_end,
        published_quarters.offence_group,
        coalesce(bool_and(force_rows.outcomes is not null), true) as is_complete
    from published_quarters
    left join force_rows
        on published_quarters.area_code = force_rows.area_code
        and published_quarters.period_end = force_rows.period_end
        and published_quarters.offence_group = force_rows.offence_group
    group by
        published_quarters.area_code,
        published_quarters.period_end,
        published_quarters.offence_group
),

force_groups as (
    select
        area_code,
        area_name,
        'force' as area_type,
        period_end,
        offence_group,
        outcome_group,
        sum(outcomes) as outcomes
    from force_rows
    group by
        area_code,
        area_name,
        period_end,
        offence_group,
        outcome_group
),

national_completeness as (
    select
        '{{ var("national_area_code") }}' as area_code,
        period_end,
        offence_group,
        bool_and(is_complete) as is_complete
    from force_completeness
    group by
        period_end,
        offence_group
),

national_groups as (
    {{ national_rows('force_rows', ['period_end', 'offence_group', 'outcome_group'], 'sum(outcomes) as outcomes') }}
),

all_groups as (
    select * from force_groups
    union all
    select * from national_groups
),

all_completeness as (
    select * from force_completeness
    union all
    select * from national_completeness
),

final as (
    select
        all_completeness.area_code,
        coalesce(all_groups.area_name, forces.area_name, '{{ var("national_area_name") }}') as area_name,
        case
            when all_completeness.area_code = '{{ var("national_area_code") }}' then 'national'
            else 'force'
        end as area_type,
        all_completeness.period_end,
        all_completeness.offence_group,
        all_groups.outcome_group,
        all_groups.outcomes,
        all_completeness.is_complete
    from all_completeness
    left join all_groups
        on all_completeness.area_code = all_groups.area_code
        and all_completeness.period_end = all_groups.period_end
        and all_completeness.offence_group = all_groups.offence_group
    left join forces
        on all_completeness.area_code = forces.area_code
)

select * from final
