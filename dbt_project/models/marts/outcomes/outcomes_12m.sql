-- Crime outcomes assigned in the 12 months ending at each quarter end, per area,
-- offence group and outcome group, with each group's share of all the outcomes
-- assigned in those 12 months (the inspection's Table 1 measure). Grain: area x
-- period_end x offence_group x outcome_group.
--
-- Closed basis: outcomes are counted in the quarter they were assigned, whatever
-- quarter the crime was recorded in. Only complete windows (macros/aggregation/twelve_month_windows.sql):
-- the area published all four quarters for the offence with no suppressed count.
-- Every outcome group in use by period_end (outcome_types seed) has a row, zero
-- when none was assigned, so a chart or a comparison never mistakes a missing
-- group for a missing figure.

with

quarterly as (
    select * from {{ ref('int_outcomes_quarterly') }}
),

outcome_types as (
    select * from {{ ref('outcome_types') }}
),

counted_quarters as (
    select distinct
        area_code,
        area_name,
        area_type,
        period_end,
        offence_group
    from quarterly
    where is_complete
),

window_quarters as (
    {{ twelve_month_windows('counted_quarters', ['area_code', 'offence_group']) }}
),

windows as (
    select distinct
        window_quarters.area_code,
        counted_quarters.area_name,
        counted_quarters.area_type,
        window_quarters.period_end,
        window_quarters.offence_group
    from window_quarters
    inner join counted_quarters
        on window_quarters.area_code = counted_quarters.area_code
        and window_quarters.offence_group = counted_quarters.offence_group
        and window_quarters.period_end = counted_quarters.period_end
),

outcome_groups as (
    select
        outcome_group_key as outcome_group,
        any_value(outcome_group) as outcome_group_name,
        min(valid_from) as in_use_from
    from outcome_types
    where is_assigned_outcome
    group by outcome_group_key
),

window_groups as (
    select
        windows.*,
        outcome_groups.outcome_group,
        outcome_groups.outcome_group_name
    from windows
    inner join outcome_groups
        on windows.period_end >= outcome_groups.in_use_from
),

window_sums as (
    select
        window_quarters.area_code,
        window_quarters.period_end,
        window_quarters.offence_group,
        quarterly.outcome_group,
        sum(quarterly.outcomes) as outcomes
    from window_quarters
    inner join quarterly
        on window_quarters.area_code = quarterly.area_code
        and window_quarters.offence_group = quarterly.offence_group
        and window_quarters.quarter_end = quarterly.period_end
    where quarterly.outcome_group is not null
    group by
        window_quarters.area_code,
        window_quarters.period_end,
        window_quarters.offence_group,
        quarterly.outcome_group
),

with_counts as (
    select
        window_groups.*,
        coalesce(window_sums.outcomes, 0) as outcomes
    from window_groups
    left join window_sums
        on window_groups.area_code = window_sums.area_code
        and window_groups.period_end = window_sums.period_end
        and window_groups.offence_group = window_sums.offence_group
        and window_groups.outcome_group = window_sums.outcome_group
),

with_shares as (
    select
        *,
        sum(outcomes) over (partition by area_code, period_end, offence_group) as assigned_outcomes
    from with_counts
),

final as (
    select
        cast(area_code as varchar) as area_code,
        cast(area_name as varchar) as area_name,
        cast(area_type as varchar) as area_type,
        cast(period_end as date) as period_end,
        cast(offence_group as varchar) as offence_group,
        cast(outcome_group as varchar) as outcome_group,
        cast(outcome_group_name as varchar) as outcome_group_name,
        cast(outcomes as bigint) as outcomes,
        cast(assigned_outcomes as bigint) as assigned_outcomes,
        cast(outcomes / nullif(assigned_outcomes, 0) as double) as share
    from with_shares
)

select * from final
