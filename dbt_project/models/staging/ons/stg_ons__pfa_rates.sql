-- ONS police force area data tables, Table P3: the rate of stalking and harassment
-- per 1,000 residents per area for the 12 months the title names, with the
-- population (mid-year estimate, rounded to 100) the ONS divided by. Parsed like
-- stg_ons__pfa_recorded_crime: period dates, the area code (British Transport
-- Police, without one, through its name), names without footnote digits, the kind
-- of area, and numbers (NULL, with the marker kept, for `+`, `..` and the rest).

with

pfa_rates as (
    select * from {{ source('ons', 'ons__pfa_rates') }}
),

forces as (
    select * from {{ ref('forces') }}
),

other_areas as (
    select * from {{ ref('other_areas') }}
),

force_name_variants as (
    select * from {{ ref('force_name_variants') }}
),

parsed as (
    select
        nullif(upper(trim(area_code)), '') as area_code_as_written,
        {{ without_footnote_digits('area_name') }} as area_name,
        trim(period_label) as period_label_as_written,
        {{ twelve_months_end('period_label') }} as period_end,
        {{ calendar_year('population_mid_year') }} as population_mid_year,
        {{ count_value('population') }} as population,
        {{ count_marker('population') }} as population_marker,
        {{ decimal_value('stalking_and_harassment_rate') }} as stalking_and_harassment_rate,
        {{ count_marker('stalking_and_harassment_rate') }} as stalking_and_harassment_rate_marker,
        _file_name,
        _sha256,
        _sheet,
        _row_number,
        _loaded_at
    from pfa_rates
),

-- reporting_bodies, with_area_code, with_periods, area_types, with_area_type:
-- shared with the other ONS police force area staging model (macros/staging/ons_area_ctes.sql).
{{ ons_area_ctes('parsed') }},

final as (
    select
        period_label,
        period_start,
        period_end,
        area_code,
        area_name,
        area_type,
        population_mid_year,
        population,
        population_marker,
        stalking_and_harassment_rate,
        stalking_and_harassment_rate_marker,
        _file_name,
        _sha256,
        _sheet,
        _row_number,
        _loaded_at
    from with_area_type
)

select * from final
