-- Recorded offences in the 12 months ending at each quarter end, per area and
-- offence group: the series behind the trend, ratio and rate charts, with the
-- same 12 months a year earlier, the change on it, and the rate per 1,000
-- residents. Grain: area x period_end x offence_group.
--
-- Windows come from macros/aggregation/twelve_month_windows.sql: the four quarters ending at
-- period_end, found by date arithmetic, across financial-year boundaries. Only
-- complete windows are kept: all four quarters present with a count; a quarter
-- with a suppressed count makes its windows incomplete rather than short.
--
-- Besides the offence groups of the offence_codes seed, the derived group
-- `stalking_and_harassment`, the ONS subgroup (8L + 8M + 8Q + 8R + 8U over the
-- years each exists, macros/reference/stalking_and_harassment_codes.sql). Its rows stand beside its
-- members': adding every offence_group of a period up counts them twice.

with

quarterly as (
    select * from {{ ref('recorded_crime_quarterly') }}
),

population as (
    select * from {{ ref('stg_ons__population') }}
),

forces as (
    select * from {{ ref('forces') }}
),

-- An offence group can hold more than one code; its quarter has a count only when
-- every code's count is there.
group_quarters as (
    select
        area_code,
        area_name,
        area_type,
        period_end,
        offence_group,
        sum(offences) as offences,
        count(offences) = count(*) as is_complete
    from quarterly
    group by
        area_code,
        area_name,
        area_type,
        period_end,
        offence_group
),

-- The derived group `stalking_and_harassment`, the ONS subgroup: its member codes
-- and the first day each belongs to it (macros/reference/stalking_and_harassment_codes.sql, the
-- publisher's definition). Its quarter counts only when every member code valid
-- for the whole quarter is there with a count: a total short of a member code
-- (8U from April 2020, say) is not the subgroup.
subgroup_codes as (
    {{ stalking_and_harassment_codes_relation() }}
),

quarter_ends as (
    select distinct
        period_end,
        cast(date_trunc('month', period_end) - interval 2 month as date) as period_start
    from quarterly
),

subgroup_codes_expected as (
    select
        quarter_ends.period_end,
        count(subgroup_codes.offence_code) as codes_expected
    from quarter_ends
    left join subgroup_codes
        on quarter_ends.period_start >= subgroup_codes.valid_from
    group by quarter_ends.period_end
),

subgroup_quarters as (
    select
        quarterly.area_code,
        quarterly.area_name,
        quarterly.area_type,
        quarterly.period_end,
        'stalking_and_harassment' as offence_group,
        sum(quarterly.offences) as offences,
        count(quarterly.offences) = count(*)
            and count(distinct quarterly.offence_code) = any_value(subgroup_codes_expected.codes_expected)
            as is_complete
    from quarterly
    inner join subgroup_codes
        on quarterly.offence_code = subgroup_codes.offence_code
        and quarterly.period_end >= subgroup_codes.valid_from
    inner join subgroup_codes_expected
        on quarterly.period_end = subgroup_codes_expected.period_end
    group by
        quarterly.area_code,
        quarterly.area_name,
        quarterly.area_type,
        quarterly.period_end
),

counted_quarters as (
    select * from group_quarters
    where is_complete
    union all
    select * from subgroup_quarters
    where is_complete
),

window_quarters as (
    {{ twelve_month_windows('counted_quarters', ['area_code', 'offence_group']) }}
),

windows as (
    select
        window_quarters.area_code,
        any_value(counted_quarters.area_name) as area_name,
        any_value(counted_quarters.area_type) as area_type,
        window_quarters.period_end,
        window_quarters.offence_group,
        sum(counted_quarters.offences) as offences,
        count(*) as quarters_in_window
    from window_quarters
    inner join counted_quarters
        on window_quarters.area_code = counted_quarters.area_code
        and window_quarters.offence_group = counted_quarters.offence_group
        and window_quarters.quarter_end = counted_quarters.period_end
    group by
        window_quarters.area_code,
        window_quarters.period_end,
        window_quarters.offence_group
),

-- The same 12 months one year earlier, when that window is complete too.
with_previous as (
    select
        windows.*,
        previous.offences as offences_prev_12m
    from windows
    left join windows as previous
        on windows.area_code = previous.area_code
        and windows.offence_group = previous.offence_group
        and previous.period_end = cast(windows.period_end - interval 12 month as date)
),

-- Residents: the ONS mid-year estimate for the middle of the window (all ages,
-- both sexes), or the latest earlier one when that year is not yet published.
-- British Transport Police has no resident population.
resident_areas as (
    select area_code from forces where has_resident_population
    union all
    select '{{ var("national_area_code") }}'
),

area_population as (
    select
        population.area_code,
        population.mid_year,
        population.population
    from population
    inner join resident_areas
        on population.area_code = resident_areas.area_code
    where population.sex = 'persons'
        and population.age_group = 'all_ages'
        and population.population is not null
),

with_population as (
    select
        with_previous.*,
        area_population.mid_year as population_mid_year,
        area_population.population
    from with_previous
    asof left join area_population
        on with_previous.area_code = area_population.area_code
        and {{ population_mid_year('with_previous.period_end') }} >= area_population.mid_year
),

final as (
    select
        cast(area_code as varchar) as area_code,
        cast(area_name as varchar) as area_name,
        cast(area_type as varchar) as area_type,
        cast(period_end as date) as period_end,
        cast(offence_group as varchar) as offence_group,
        cast(offences as bigint) as offences,
        cast(offences_prev_12m as bigint) as offences_prev_12m,
        cast(
            (offences - offences_prev_12m) / nullif(offences_prev_12m, 0) as double
        ) as pct_change,
        cast(population as bigint) as population,
        cast(population_mid_year as integer) as population_mid_year,
        cast(1000.0 * offences / nullif(population, 0) as double) as rate_per_1000,
        cast(quarters_in_window as integer) as quarters_in_window
    from with_population
)

select * from final
