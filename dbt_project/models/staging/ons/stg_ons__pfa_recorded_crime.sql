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

-- A row without a code (British Transport Police) is matched on its name, the
-- way every other source's force names are; a row with a code never is.
reporting_bodies as (
    {{ reporting_bodies_lookup('force_name_variants', 'name_key') }}
),

with_area_code as (
    select
        parsed.*,
        coalesce(parsed.area_code_as_written, reporting_bodies.area_code) as area_code
    from parsed
    left join reporting_bodies
        on parsed.area_code_as_written is null
        and {{ normalise_name('parsed.area_name') }} = reporting_bodies.name_key
),

with_periods as (
    select
        *,
        -- the first day of the month eleven months before the last month, so a
        -- February end (28 or 29 days) never shifts the start
        cast(date_trunc('month', period_end) - interval 11 month as date) as period_start,
        'year ending ' || strftime(period_end, '%B %Y') as period_label
    from with_area_code
),

-- The ONS tables mix England and Wales, countries, regions and police force
-- areas; the seeds say which each code is.
area_types as (
    select area_code, 'force' as area_type from forces
    union all
    select area_code, area_type from other_areas
),

with_area_type as (
    select
        with_periods.*,
        area_types.area_type
    from with_periods
    left join area_types
        on with_periods.area_code = area_types.area_code
),

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
