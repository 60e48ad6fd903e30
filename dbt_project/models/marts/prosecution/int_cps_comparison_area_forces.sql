-- Built on the mart recorded_crime_quarterly (mart-on-mart): a view in the
-- `intermediate` schema beside the attrition mart that reads it.
--
-- The police forces whose figures are added up to compare with each CPS Area's
-- prosecutions, per financial year: one row per comparison area, financial year
-- and force. A comparison area is a CPS Area, except that London North and London
-- South (from 2017-18) are one comparison area with the Metropolitan Police and
-- City of London, because they divide London by borough, not by force
-- (cps_areas.police_comparison_area). British Transport Police is in no CPS Area.
-- Financial years: every year the CPS or police recorded crime data have.

with

cps_areas as (
    select * from {{ ref('cps_areas') }}
),

cps_area_forces as (
    select * from {{ ref('cps_area_forces') }}
),

recorded as (
    select * from {{ ref('recorded_crime_quarterly') }}
),

cps as (
    select * from {{ ref('stg_cps__vawg') }}
),

years_with_data as (
    select financial_year_start from cps
    union
    select cast(extract(year from period_end - interval 3 month) as integer) from recorded
),

financial_years as (
    select
        financial_year_start,
        make_date(financial_year_start, 4, 1) as period_start,
        make_date(financial_year_start + 1, 3, 31) as period_end
    from years_with_data
    where financial_year_start is not null
),

-- CPS Areas that existed for the whole financial year.
areas_in_year as (
    select
        financial_years.financial_year_start,
        financial_years.period_end,
        cps_areas.cps_area_code,
        cps_areas.cps_area_name,
        cps_areas.police_comparison_area
    from financial_years
    inner join cps_areas
        on financial_years.period_start >= cps_areas.valid_from
        and (cps_areas.valid_to is null or financial_years.period_end <= cps_areas.valid_to)
),

comparison_areas as (
    select
        police_comparison_area,
        financial_year_start,
        any_value(period_end) as period_end,
        string_agg(cps_area_name, ' and ' order by cps_area_name) as comparison_area_name,
        count(*) as cps_areas_in_comparison_area
    from areas_in_year
    group by
        police_comparison_area,
        financial_year_start
),

final as (
    select distinct
        comparison_areas.police_comparison_area,
        comparison_areas.comparison_area_name,
        comparison_areas.financial_year_start,
        comparison_areas.period_end,
        cps_area_forces.area_code
    from comparison_areas
    inner join areas_in_year
        on comparison_areas.police_comparison_area = areas_in_year.police_comparison_area
        and comparison_areas.financial_year_start = areas_in_year.financial_year_start
    inner join cps_area_forces
        on areas_in_year.cps_area_code = cps_area_forces.cps_area_code
)

select * from final
