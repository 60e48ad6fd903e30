-- ONS mid-year population estimates per area (police force areas, and England
-- and Wales, countries and regions where the table has them), parsed: the year as
-- a number and the reference date (30 June), the kind of area, the sex and age
-- group the estimate is for, and the population as a number. A table without sex
-- or age group columns is persons of all ages. Region and country rows (ONS Table
-- P9 has them) get their area_type from the other_areas seed and are never read
-- as a force: marts join on the code. Names lose glued footnote digits.

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
        {{ without_footnote_digits('area_name') }} as area_name,
        nullif(trim(geography), '') as geography,
        -- ingest accepts only these spellings; empty or absent is persons
        case coalesce({{ normalise_name('sex') }}, '')
            when '' then 'persons'
            when 'persons' then 'persons'
            when 'all' then 'persons'
            when 'all persons' then 'persons'
            when 'male' then 'men'
            when 'males' then 'men'
            when 'men' then 'men'
            when 'female' then 'women'
            when 'females' then 'women'
            when 'women' then 'women'
        end as sex,
        -- empty or absent is all ages; `16-59`, `16 to 59`, `Aged 16 to 59` and
        -- `16 – 59 years` are one age group, `16-59`, as in stg_csew__prevalence
        case
            when coalesce({{ normalise_label('age_group') }}, '') in ('', 'all ages', 'all')
                then 'all_ages'
            else regexp_replace(
                regexp_replace(
                    {{ normalise_label('age_group') }},
                    '^(?:aged|ages|age)\s+|\s+years?(?:\s+old)?$', '', 'g'
                ),
                '\s*(?:-|\bto\b)\s*', '-', 'g'
            )
        end as age_group,
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
        sex,
        age_group,
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
