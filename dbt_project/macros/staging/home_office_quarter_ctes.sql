{#
    The CTEs the two Home Office staging models (recorded crime and outcomes)
    share, following their `parsed_cte`: `with_periods` (canonical financial
    year label, first and last day of the quarter), `reporting_bodies`,
    `with_reporting_body` (area code and body type of the force name) and
    `with_offence_group` (the platform's offence group for the code in that
    quarter). The model goes on from `with_offence_group`. It needs the import
    CTEs `force_name_variants` and `offence_codes`.
#}
{% macro home_office_quarter_ctes(parsed_cte) -%}
with_periods as (
    select
        *,
        {{ financial_year_label('financial_year_start') }} as financial_year,
        {{ financial_quarter_start('financial_year_start', 'financial_quarter') }} as period_start,
        {{ financial_quarter_end('financial_year_start', 'financial_quarter') }} as period_end
    from {{ parsed_cte }}
),

reporting_bodies as (
    {{ reporting_bodies_lookup('force_name_variants', 'force_name_key') }}
),

with_reporting_body as (
    select
        with_periods.*,
        reporting_bodies.area_code,
        reporting_bodies.reporting_body_type
    from with_periods
    left join reporting_bodies
        on with_periods.force_name_key = reporting_bodies.force_name_key
),

with_offence_group as (
    select
        with_reporting_body.*,
        offence_codes.offence_group
    from with_reporting_body
    left join offence_codes
        on with_reporting_body.offence_code = offence_codes.offence_code
        and {{ within_code_validity('with_reporting_body.period_start', 'with_reporting_body.period_end', 'offence_codes') }}
)
{%- endmacro %}
