-- ONS police force area data tables: 12-month totals of stalking and harassment
-- (and of all recorded crime excluding fraud) per area, parsed: the 12 months
-- the table's title names as dates, the kind of area the code belongs to, and
-- the totals as numbers (NULL, with the marker kept, when suppressed). Names lose
-- their glued footnote digits (`Surrey7,8` -> `Surrey`). Areas are identified by
-- their ONS code; British Transport Police has none in the real tables and gets
-- its seed code `BTP` through its name (force_name_variants seed).

with

pfa_recorded_crime as (
    select * from {{ source('ons', 'ons__pfa_recorded_crime') }}
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
        {{ count_value('stalking_and_harassment') }} as stalking_and_harassment,
        {{ count_marker('stalking_and_harassment') }} as stalking_and_harassment_marker,
        {{ count_value('total_recorded_crime_excluding_fraud') }} as total_recorded_crime_excluding_fraud,
        {{ count_marker('total_recorded_crime_excluding_fraud') }} as total_recorded_crime_excluding_fraud_marker,
        _file_name,
        _sha256,
        _sheet,
        _row_number,
        _loaded_at
    from pfa_recorded_crime
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
        stalking_and_harassment,
        stalking_and_harassment_marker,
        total_recorded_crime_excluding_fraud,
        total_recorded_crime_excluding_fraud_marker,
        _file_name,
        _sha256,
        _sheet,
        _row_number,
        _loaded_at
    from with_area_type
)

select * from final
