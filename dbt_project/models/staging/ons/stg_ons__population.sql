-- ONS mid-year population estimates per area (police force areas, and England
-- and Wales, countries and regions where the table has them), parsed: the year as
-- a number and the reference date (30 June), the kind of area, and the
-- population as a number.

with

population as (
    select * from {{ source('ons', 'ons__population') }}
),

forces as (
    select * from {{ ref('forces') }}
),

other_areas as (
    select * from {{ ref('other_areas') }}
),

parsed as (
    select
        {{ calendar_year('mid_year') }} as mid_year,
        upper(trim(area_code)) as area_code,
        trim(area_name) as area_name,
        nullif(trim(geography), '') as geography,
        {{ count_value('population') }} as population,
        {{ count_marker('population') }} as population_marker,
        _file_name,
        _sha256,
        _sheet,
        _row_number,
        _loaded_at
    from population
),

area_types as (
    select area_code, 'force' as area_type from forces
    union all
    select area_code, area_type from other_areas
),

with_area_type as (
    select
        parsed.*,
        make_date(parsed.mid_year, 6, 30) as reference_date,
        area_types.area_type
    from parsed
    left join area_types
        on parsed.area_code = area_types.area_code
),

final as (
    select
        mid_year,
        reference_date,
        area_code,
        area_name,
        area_type,
        geography,
        population,
        population_marker,
        _file_name,
        _sha256,
        _sheet,
        _row_number,
        _loaded_at
    from with_area_type
)

select * from final
