-- The path from a recorded crime to a conviction, per CPS Area (the finest level
-- at which CPS figures can meet police figures) and England and Wales, financial
-- year and offence group (stalking, harassment): crimes recorded, charged or
-- summonsed, prosecuted and convicted, and the rate between each step.
-- Grain: area x financial_year x offence_group.
--
-- Every step counts in financial years (April to March): police recorded crime
-- (the 12 months to 31 March), police charges/summonses (outcome group
-- charged_summonsed, closed basis: charges made in the year, whatever year the
-- crime was recorded in) and CPS prosecutions and convictions (offences reaching
-- a first hearing in the year, and their convictions). The Ministry of Justice's
-- court figures count in calendar years and are in court_outcomes, not here.
-- The steps are different units (crimes, charged crimes, CPS offences), counted
-- in the same year but not the same cases: prosecuted_per_charged can exceed 1,
-- because the CPS counts every offence charged under the Act's stalking sections
-- whatever code the police recorded the crime under.
--
-- Police figures roll up from forces to CPS Areas through the cps_area_forces
-- seed (int_cps_comparison_area_forces); an Area's police figure is NULL unless
-- every one of its forces has the complete year. London North and London South
-- are one row (`cps_london`, named after both) from 2017-18. British Transport
-- Police is in no Area but is in England and Wales.

with

comparison_area_forces as (
    select * from {{ ref('int_cps_comparison_area_forces') }}
),

cps_areas as (
    select * from {{ ref('cps_areas') }}
),

recorded as (
    select * from {{ ref('recorded_crime_12m') }}
),

outcomes as (
    select * from {{ ref('outcomes_12m') }}
),

cps as (
    select * from {{ ref('stg_cps__vawg') }}
),

offence_groups as (
    select unnest(['stalking', 'harassment']) as offence_group
),

-- The 12 months to 31 March of each year: the financial year.
recorded_years as (
    select * from recorded
    where extract(month from period_end) = 3
        and offence_group in (select offence_groups.offence_group from offence_groups)
),

charged_years as (
    select * from outcomes
    where extract(month from period_end) = 3
        and outcome_group = 'charged_summonsed'
        and offence_group in (select offence_groups.offence_group from offence_groups)
),

police_years as (
    select
        coalesce(recorded_years.area_code, charged_years.area_code) as area_code,
        cast(extract(year from coalesce(recorded_years.period_end, charged_years.period_end)) as integer) - 1
            as financial_year_start,
        coalesce(recorded_years.offence_group, charged_years.offence_group) as offence_group,
        recorded_years.offences as recorded,
        charged_years.outcomes as charged_summonsed
    from recorded_years
    full outer join charged_years
        on recorded_years.area_code = charged_years.area_code
        and recorded_years.period_end = charged_years.period_end
        and recorded_years.offence_group = charged_years.offence_group
),

area_police as (
    select
        comparison_area_forces.police_comparison_area as area_code,
        comparison_area_forces.comparison_area_name as area_name,
        comparison_area_forces.financial_year_start,
        offence_groups.offence_group,
        {{ complete_sum('police_years.recorded') }} as recorded,
        {{ complete_sum('police_years.charged_summonsed') }} as charged_summonsed
    from comparison_area_forces
    cross join offence_groups
    left join police_years
        on comparison_area_forces.area_code = police_years.area_code
        and comparison_area_forces.financial_year_start = police_years.financial_year_start
        and offence_groups.offence_group = police_years.offence_group
    group by
        comparison_area_forces.police_comparison_area,
        comparison_area_forces.comparison_area_name,
        comparison_area_forces.financial_year_start,
        offence_groups.offence_group
),

area_cps as (
    select
        cps_areas.police_comparison_area as area_code,
        cps.financial_year_start,
        cps.offence as offence_group,
        {{ complete_sum('cps.prosecutions') }} as prosecuted,
        {{ complete_sum('cps.convictions') }} as convicted
    from cps
    inner join cps_areas
        on cps.cps_area_code = cps_areas.cps_area_code
    where cps.area_type = 'cps_area'
    group by
        cps_areas.police_comparison_area,
        cps.financial_year_start,
        cps.offence
),

area_rows as (
    select
        area_police.area_code,
        area_police.area_name,
        'cps_area' as area_type,
        area_police.financial_year_start,
        area_police.offence_group,
        area_police.recorded,
        area_police.charged_summonsed,
        area_cps.prosecuted,
        area_cps.convicted
    from area_police
    left join area_cps
        on area_police.area_code = area_cps.area_code
        and area_police.financial_year_start = area_cps.financial_year_start
        and area_police.offence_group = area_cps.offence_group
),

national_police as (
    select * from police_years
    where area_code = '{{ var("national_area_code") }}'
),

national_cps as (
    select
        financial_year_start,
        offence as offence_group,
        prosecutions as prosecuted,
        convictions as convicted
    from cps
    where area_type = 'national'
),

national_rows as (
    select
        '{{ var("national_area_code") }}' as area_code,
        '{{ var("national_area_name") }}' as area_name,
        'national' as area_type,
        coalesce(national_police.financial_year_start, national_cps.financial_year_start)
            as financial_year_start,
        coalesce(national_police.offence_group, national_cps.offence_group) as offence_group,
        national_police.recorded,
        national_police.charged_summonsed,
        national_cps.prosecuted,
        national_cps.convicted
    from national_police
    full outer join national_cps
        on national_police.financial_year_start = national_cps.financial_year_start
        and national_police.offence_group = national_cps.offence_group
),

all_areas as (
    select * from area_rows
    union all
    select * from national_rows
),

final as (
    select
        cast(area_code as varchar) as area_code,
        cast(area_name as varchar) as area_name,
        cast(area_type as varchar) as area_type,
        cast({{ financial_year_label('financial_year_start') }} as varchar) as financial_year,
        cast(make_date(financial_year_start, 4, 1) as date) as period_start,
        cast(make_date(financial_year_start + 1, 3, 31) as date) as period_end,
        cast(offence_group as varchar) as offence_group,
        cast(recorded as bigint) as recorded,
        cast(charged_summonsed as bigint) as charged_summonsed,
        cast(prosecuted as bigint) as prosecuted,
        cast(convicted as bigint) as convicted,
        cast(charged_summonsed / nullif(recorded, 0) as double) as charged_per_recorded,
        cast(prosecuted / nullif(charged_summonsed, 0) as double) as prosecuted_per_charged,
        cast(convicted / nullif(prosecuted, 0) as double) as convicted_per_prosecuted,
        cast(prosecuted / nullif(recorded, 0) as double) as prosecuted_per_recorded,
        cast(convicted / nullif(recorded, 0) as double) as convicted_per_recorded
    from all_areas
)

select * from final
