-- Every total a publisher prints for the platform's offences, beside the same
-- total computed from the Home Office quarterly data where the warehouse has it:
-- the ONS police force area tables (Table P1, the stalking and harassment
-- subgroup for every area), the ONS Appendix tables (Table A5a, England and
-- Wales, each platform code and the subgroup subtotal, every period column) and
-- the Home Office rolling 12-month table (stalking and harassment per force, and
-- England and Wales as the sum of its 44 force rows when all are printed).
-- Grain: publisher_table x area x period x offence_group. The raw layer keeps
-- only the latest release of a period, so there is one row per total.
--
-- computed_value: the warehouse's own 12-month total for the area, period and
-- offence group (marts.recorded_crime_12m, from the Home Office quarterly data:
-- forces including British Transport Police, England and Wales = every force,
-- fraud bodies left out; stalking_and_harassment = every member code of the ONS
-- subgroup, macros/reference/stalking_and_harassment_codes.sql). England and Wales's countries are the
-- sum of their territorial forces (forces seed, country). NULL when the mart has
-- no complete window for it (a quarter, code or force missing or suppressed), and
-- always for regions: no seed maps forces to regions.

with

pfa_recorded_crime as (
    select * from {{ ref('stg_ons__pfa_recorded_crime') }}
),

appendix as (
    select * from {{ ref('stg_ons__appendix_recorded_crime') }}
),

pfa_rolling as (
    select * from {{ ref('stg_home_office__pfa_rolling') }}
),

twelve_months as (
    select * from {{ ref('recorded_crime_12m') }}
),

forces as (
    select * from {{ ref('forces') }}
),

other_areas as (
    select * from {{ ref('other_areas') }}
),

-- Areas are named as in the seeds, whatever the publisher's spelling.
area_names as (
    select area_code, area_name from forces
    union all
    select area_code, area_name from other_areas
),

-- ------------------------------------------------------------ published totals

ons_pfa_totals as (
    select
        'ons_pfa_tables' as publisher_table,
        pfa_recorded_crime.period_label as release,
        pfa_recorded_crime.area_code,
        coalesce(area_names.area_name, pfa_recorded_crime.area_name) as area_name,
        pfa_recorded_crime.area_type,
        pfa_recorded_crime.period_start,
        pfa_recorded_crime.period_end,
        'stalking_and_harassment' as offence_group,
        pfa_recorded_crime.stalking_and_harassment as published_value,
        pfa_recorded_crime.stalking_and_harassment_marker as published_marker,
        'as_printed' as published_value_basis,
        pfa_recorded_crime._file_name as file_name
    from pfa_recorded_crime
    left join area_names
        on pfa_recorded_crime.area_code = area_names.area_code
    where pfa_recorded_crime.period_end is not null
        and pfa_recorded_crime.area_code is not null
),

-- England and Wales only; codes outside their validity dates (8Q before April
-- 2014, 8R before April 2017, printed `[x]`) have no offence group and no row.
appendix_totals as (
    select
        'ons_appendix_tables' as publisher_table,
        release_label as release,
        '{{ var("national_area_code") }}' as area_code,
        '{{ var("national_area_name") }}' as area_name,
        'national' as area_type,
        period_start,
        period_end,
        offence_group,
        offences as published_value,
        offences_marker as published_marker,
        'as_printed' as published_value_basis,
        _file_name as file_name
    from appendix
    where offence_group is not null
        and period_end is not null
),

rolling_force_totals as (
    select
        'home_office_pfa_rolling' as publisher_table,
        pfa_rolling.release_label as release,
        pfa_rolling.area_code,
        forces.area_name,
        'force' as area_type,
        pfa_rolling.period_start,
        pfa_rolling.period_end,
        pfa_rolling.offence_group,
        pfa_rolling.rolling_total as published_value,
        pfa_rolling.rolling_total_marker as published_marker,
        'as_printed' as published_value_basis,
        pfa_rolling._file_name as file_name
    from pfa_rolling
    inner join forces
        on pfa_rolling.area_code = forces.area_code
    where pfa_rolling.offence_group is not null
        and pfa_rolling.period_end is not null
),

-- The table prints no national row. England and Wales is the sum of the printed
-- force rows, only when every force of the seed (British Transport Police
-- included) is printed with a number for the period.
rolling_national_totals as (
    select
        publisher_table,
        release,
        '{{ var("national_area_code") }}' as area_code,
        '{{ var("national_area_name") }}' as area_name,
        'national' as area_type,
        period_start,
        period_end,
        offence_group,
        sum(published_value) as published_value,
        cast(null as varchar) as published_marker,
        'sum_of_printed_forces' as published_value_basis,
        any_value(file_name) as file_name
    from rolling_force_totals
    group by publisher_table, release, period_start, period_end, offence_group
    having count(distinct area_code) = (select count(*) from forces)
        and count(published_value) = count(*)
),

published as (
    select * from ons_pfa_totals
    union all
    select * from appendix_totals
    union all
    select * from rolling_force_totals
    union all
    select * from rolling_national_totals
),

-- ------------------------------------------------------------ computed totals

-- The warehouse's own 12-month totals (marts.recorded_crime_12m: complete windows
-- only, the derived group stalking_and_harassment included) for the forces and
-- England and Wales; England and Wales's two countries are the sum of their
-- territorial forces, when every one of them has the total.
countries as (
    select
        other_areas.area_code,
        forces.area_code as force_code,
        count(*) over (partition by other_areas.area_code) as forces_in_country
    from forces
    inner join other_areas
        on forces.country = other_areas.area_name
        and other_areas.area_type = 'country'
),

country_totals as (
    select
        countries.area_code,
        twelve_months.offence_group,
        twelve_months.period_end,
        sum(twelve_months.offences) as computed_value
    from twelve_months
    inner join countries
        on twelve_months.area_code = countries.force_code
    group by countries.area_code, twelve_months.offence_group, twelve_months.period_end
    having count(twelve_months.offences) = any_value(countries.forces_in_country)
),

computed as (
    select
        area_code,
        offence_group,
        period_end,
        offences as computed_value
    from twelve_months
    where area_type in ('force', 'national')
    union all
    select * from country_totals
),

-- ------------------------------------------------------------ side by side

compared as (
    select
        published.*,
        computed.computed_value
    from published
    left join computed
        on published.area_code = computed.area_code
        and published.offence_group = computed.offence_group
        and published.period_end = computed.period_end
        -- a 12-month total only: the window is the four quarters ending period_end
        and published.period_start
            = cast(date_trunc('month', published.period_end) - interval 11 month as date)
),

final as (
    select
        cast(publisher_table as varchar) as publisher_table,
        cast(release as varchar) as release,
        cast(area_code as varchar) as area_code,
        cast(area_name as varchar) as area_name,
        cast(area_type as varchar) as area_type,
        cast(period_start as date) as period_start,
        cast(period_end as date) as period_end,
        cast(offence_group as varchar) as offence_group,
        cast(published_value as bigint) as published_value,
        cast(published_marker as varchar) as published_marker,
        cast(published_value_basis as varchar) as published_value_basis,
        cast(computed_value as bigint) as computed_value,
        cast(published_value - computed_value as bigint) as difference,
        cast(
            round((published_value - computed_value) / nullif(published_value, 0), 8) as double
        ) as pct_difference,
        cast(file_name as varchar) as file_name
    from compared
)

select * from final
