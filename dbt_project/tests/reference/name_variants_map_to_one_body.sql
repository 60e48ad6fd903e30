-- Force and CPS Area spellings are compared with `normalise_name`, so two rows that
-- differ only in case or spacing must name the same body; otherwise a raw row
-- would match two bodies. Returns each normalised name that maps to more than one.

with

force_name_variants as (
    select * from {{ ref('force_name_variants') }}
),

cps_area_name_variants as (
    select * from {{ ref('cps_area_name_variants') }}
),

force_names as (
    select
        'force_name_variants' as seed,
        {{ normalise_name('name_variant') }} as name_key,
        count(distinct coalesce(area_code, '') || '|' || reporting_body_type) as bodies
    from force_name_variants
    group by name_key
),

cps_area_names as (
    select
        'cps_area_name_variants' as seed,
        {{ normalise_name('name_variant') }} as name_key,
        count(distinct cps_area_code) as bodies
    from cps_area_name_variants
    group by name_key
),

all_names as (
    select * from force_names
    union all
    select * from cps_area_names
)

select * from all_names
where bodies > 1
