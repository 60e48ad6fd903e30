-- Built on the marts recorded_crime_12m, outcomes_12m, recording_practice and
-- court_outcomes (mart-on-mart): a view in the `intermediate` schema beside the
-- problem_profile mart that reads it.
--
-- Every figure of a force problem profile as a numerator and a denominator, per
-- area (police forces and England and Wales) and 12-month period: the long form
-- the problem_profile mart compares and pivots. Keeping numerator and denominator
-- lets a group of forces be compared by its own ratio of totals rather than by an
-- average of its forces' ratios. Measures and kinds: macros/profile/profile_measures.sql.
-- Grain: area x period_end x measure.
--
-- Court figures (Ministry of Justice) count in calendar years: each 12-month
-- period takes the latest calendar year that ended on or before its end
-- (court_calendar_year), so the 12 months to December 2016 take 2016 and the
-- 12 months to March 2017 take 2016 too.

with

recorded as (
    select * from {{ ref('recorded_crime_12m') }}
),

outcomes as (
    select * from {{ ref('outcomes_12m') }}
),

practice as (
    select * from {{ ref('recording_practice') }}
),

court as (
    select * from {{ ref('court_outcomes') }}
),

recorded_measures as (
    select area_code, area_type, period_end, offence_group || '_offences' as measure,
        offences as numerator, cast(null as double) as denominator
    from recorded
    union all
    select area_code, area_type, period_end, offence_group || '_pct_change',
        offences - offences_prev_12m, offences_prev_12m
    from recorded
    union all
    select area_code, area_type, period_end, offence_group || '_rate_per_1000',
        offences, population / 1000.0
    from recorded
),

outcome_measures as (
    select area_code, area_type, period_end, offence_group || '_share_' || outcome_group as measure,
        outcomes as numerator, assigned_outcomes as denominator
    from outcomes
    -- the rendered list of outcome groups is longer than a line
    where outcome_group in ('{{ profile_outcome_groups() | join("', '") }}')  -- noqa: LT05
),

practice_measures as (
    select area_code, area_type, period_end, 'harassment_to_stalking_ratio' as measure,
        harassment_offences as numerator, stalking_offences as denominator
    from practice
),

court_years as (
    select
        area_code,
        area_type,
        calendar_year,
        offence_group,
        {{ complete_sum('prosecuted') }} as prosecuted,
        {{ complete_sum('convicted') }} as convicted
    from court
    group by
        area_code,
        area_type,
        calendar_year,
        offence_group
),

periods as (
    select distinct
        period_end,
        {{ court_calendar_year('period_end') }} as court_calendar_year
    from recorded
),

court_measures as (
    select court_years.area_code, court_years.area_type, periods.period_end,
        court_years.offence_group || '_prosecuted' as measure,
        court_years.prosecuted as numerator, cast(null as double) as denominator
    from court_years
    inner join periods on court_years.calendar_year = periods.court_calendar_year
    union all
    select court_years.area_code, court_years.area_type, periods.period_end,
        court_years.offence_group || '_convicted',
        court_years.convicted, null
    from court_years
    inner join periods on court_years.calendar_year = periods.court_calendar_year
    union all
    select court_years.area_code, court_years.area_type, periods.period_end,
        court_years.offence_group || '_conviction_ratio',
        court_years.convicted, court_years.prosecuted
    from court_years
    inner join periods on court_years.calendar_year = periods.court_calendar_year
),

all_measures as (
    select * from recorded_measures
    union all
    select * from outcome_measures
    union all
    select * from practice_measures
    union all
    select * from court_measures
),

kinds as (
    {%- for measure, kind in profile_measures() %}
    select '{{ measure }}' as measure, '{{ kind }}' as kind
    {{ "union all" if not loop.last }}
    {%- endfor %}
),

final as (
    select
        cast(all_measures.area_code as varchar) as area_code,
        cast(all_measures.area_type as varchar) as area_type,
        cast(all_measures.period_end as date) as period_end,
        cast(all_measures.measure as varchar) as measure,
        cast(kinds.kind as varchar) as kind,
        cast(all_measures.numerator as double) as numerator,
        cast(all_measures.denominator as double) as denominator,
        cast(
            case
                when kinds.kind = 'count' then all_measures.numerator
                else all_measures.numerator / nullif(all_measures.denominator, 0)
            end as double
        ) as value
    from all_measures
    inner join kinds
        on all_measures.measure = kinds.measure
)

select * from final
