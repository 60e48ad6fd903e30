-- Every figure in the published_figures seed beside the value the marts give for
-- it, and whether they agree: exact for counts, within half a percentage point
-- for percentages (the published figures are rounded to whole percentages).
-- Which figure to compare with which mart row comes from the seed's `mart*`
-- columns, so adding a figure to the seed adds its check. Grain: figure_id.
--
-- Every figure came from a release (the seed's `release`, `release_period_end`);
-- the warehouse's release of the figure's source is the latest period end its
-- data cover (int_warehouse_releases).
--
-- status: `matches`; `differs` (the build fails: the warehouse holds the
-- figure's own release, or an earlier one, and disagrees with what was
-- published); `revised_since_publication` (the warehouse holds a later release
-- than the figure's and the value differs: the publisher revised it; a warning,
-- the build publishes); `not_in_warehouse` (expressible, but the warehouse holds
-- no data for its period, for example when only recent releases are loaded: a
-- warning); `not_expressible` (the seed says why).

with

figures as (
    select * from {{ ref('published_figures') }}
),

releases as (
    select * from {{ ref('int_warehouse_releases') }}
),

recorded as (
    select * from {{ ref('recorded_crime_12m') }} where area_type = 'national'
),

outcomes as (
    select * from {{ ref('outcomes_12m') }} where area_type = 'national'
),

court as (
    select * from {{ ref('court_outcomes') }} where area_type = 'national'
),

orders as (
    select * from {{ ref('restraining_orders') }} where area_type = 'national'
),

attrition as (
    select * from {{ ref('attrition') }} where area_type = 'national'
),

prevalence as (
    select * from {{ ref('prevalence_gap') }}
),

-- Each mart's England and Wales figures, one row per value:
-- (mart, measure, period, offence, category, value).
court_groups as (
    select
        calendar_year,
        offence_group,
        {{ complete_sum('prosecuted') }} as prosecuted,
        {{ complete_sum('convicted') }} as convicted,
        {{ complete_sum('custody_12_months_or_more') }} as custody_12_months_or_more
    from court
    -- a group of more than one section (breach_of_restraining_order is both)
    where offence_group in ('harassment', 'stalking')
    group by
        calendar_year,
        offence_group
),

court_keys as (
    select
        calendar_year,
        offence_section as offence,
        prosecuted,
        convicted,
        custody_12_months_or_more
    from court
    union all
    select * from court_groups
),

attrition_keys as (
    select financial_year, offence_group as offence, prosecuted, convicted
    from attrition
    union all
    select
        financial_year,
        'stalking_and_harassment',
        {{ complete_sum('prosecuted') }},
        {{ complete_sum('convicted') }}
    from attrition
    where offence_group in ('stalking', 'harassment')
    group by financial_year
    having count(*) = 2
),

mart_values as (
    select 'recorded_crime_12m' as mart, 'offences' as measure, cast(period_end as varchar) as period,
        offence_group as offence, '' as category, cast(offences as double) as value
    from recorded
    union all
    select 'recorded_crime_12m', 'pct_change', cast(period_end as varchar), offence_group, '', pct_change
    from recorded
    union all
    select 'outcomes_12m', 'share', cast(period_end as varchar), offence_group, outcome_group, share
    from outcomes
    union all
    select 'outcomes_12m', 'outcomes', cast(period_end as varchar), offence_group, outcome_group, outcomes
    from outcomes
    union all
    select 'court_outcomes', 'prosecuted', cast(calendar_year as varchar), offence, '', prosecuted
    from court_keys
    union all
    select 'court_outcomes', 'convicted', cast(calendar_year as varchar), offence, '', convicted
    from court_keys
    union all
    select 'court_outcomes', 'conviction_ratio', cast(calendar_year as varchar), offence, '',
        convicted / nullif(prosecuted, 0)
    from court_keys
    union all
    select 'court_outcomes', 'custody_12_months_or_more', cast(calendar_year as varchar), offence, '',
        custody_12_months_or_more
    from court_keys
    union all
    select 'restraining_orders', 'orders_on_conviction', cast(calendar_year as varchar), offence_scope, '',
        orders_on_conviction
    from orders
    union all
    select 'restraining_orders', 'orders_on_acquittal', cast(calendar_year as varchar), offence_scope, '',
        orders_on_acquittal
    from orders
    union all
    select 'attrition', 'prosecuted', financial_year, offence, '', prosecuted
    from attrition_keys
    union all
    select 'attrition', 'convicted', financial_year, offence, '', convicted
    from attrition_keys
    union all
    select 'prevalence_gap', 'prevalence', survey_year, behaviour, measure || '/' || sex || '/' || age_group,
        prevalence
    from prevalence
),

compared as (
    select
        figures.*,
        mart_values.value as mart_value_raw,
        figures.unit = 'percent' as is_percentage,
        releases.release as warehouse_release,
        releases.release_period_end as warehouse_release_period_end
    from figures
    left join mart_values
        on figures.mart = mart_values.mart
        and figures.mart_measure = mart_values.measure
        and figures.mart_period = mart_values.period
        and figures.mart_offence = mart_values.offence
        and coalesce(figures.mart_category, '') = mart_values.category
    left join releases
        on figures.mart = releases.mart
),

scored as (
    select
        *,
        case when is_percentage then 100 * mart_value_raw else mart_value_raw end as mart_value,
        case when is_percentage then 0.5 else 0 end as tolerance
    from compared
),

final as (
    select
        cast(figure_id as varchar) as figure_id,
        cast('{{ var("national_area_code") }}' as varchar) as area_code,
        cast('{{ var("national_area_name") }}' as varchar) as area_name,
        cast('national' as varchar) as area_type,
        cast(source as varchar) as source,
        cast(measure as varchar) as measure,
        cast(offence as varchar) as offence,
        cast(period as varchar) as period,
        cast(release as varchar) as figure_release,
        cast(release_period_end as date) as figure_release_period_end,
        cast(value as double) as published_value,
        cast(unit as varchar) as unit,
        cast(mart as varchar) as mart,
        cast(mart_measure as varchar) as mart_measure,
        cast(mart_period as varchar) as mart_period,
        cast(mart_offence as varchar) as mart_offence,
        cast(mart_category as varchar) as mart_category,
        cast(mart_value as double) as mart_value,
        cast(mart_value - value as double) as difference,
        cast(tolerance as double) as tolerance,
        cast(warehouse_release as varchar) as warehouse_release,
        cast(warehouse_release_period_end as date) as warehouse_release_period_end,
        cast(
            case
                when coalesce(mart_expressible, '') <> 'yes' then 'not_expressible'
                when mart_value is null then 'not_in_warehouse'
                when abs(mart_value - value) <= tolerance + 1e-9 then 'matches'
                -- a later release than the figure's: the publisher revised it
                when warehouse_release_period_end > release_period_end then 'revised_since_publication'
                -- the figure's own release (or an earlier one) must reproduce it
                else 'differs'
            end as varchar
        ) as status,
        cast(mart_expressible_reason as varchar) as mart_expressible_reason,
        cast(citation as varchar) as citation
    from scored
)

select * from final
