{#
    The CTEs the two staging models of the ONS police force area tables (P1 and
    P3) share, following their `parsed_cte`: `reporting_bodies`,
    `with_area_code` (the code as written, or, for a row without one such as
    British Transport Police, the code of the reporting body its name is a
    variant of), `with_periods` (`period_start`, the first day of the month
    eleven months before the last, so a February end never shifts it, and the
    canonical `period_label`), `area_types` and `with_area_type` (national,
    country, region or force, from the seeds). The model goes on from
    `with_area_type`. It needs the import CTEs `forces`, `other_areas` and
    `force_name_variants`.
#}
{% macro ons_area_ctes(parsed_cte) -%}
reporting_bodies as (
    {{ reporting_bodies_lookup('force_name_variants', 'name_key') }}
),

with_area_code as (
    select
        {{ parsed_cte }}.*,
        coalesce({{ parsed_cte }}.area_code_as_written, reporting_bodies.area_code) as area_code
    from {{ parsed_cte }}
    left join reporting_bodies
        on {{ parsed_cte }}.area_code_as_written is null
        and {{ normalise_name(parsed_cte ~ '.area_name') }} = reporting_bodies.name_key
),

with_periods as (
    select
        *,
        cast(date_trunc('month', period_end) - interval 11 month as date) as period_start,
        'year ending ' || strftime(period_end, '%B %Y') as period_label
    from with_area_code
),

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
)
{%- endmacro %}
