{#
    The England and Wales rows of a mart that adds up its force rows: area_code
    and area_name from the `national_area_code` and `national_area_name`
    variables, area_type `national`, the `group_by` columns, and `measures` over
    every row of `relation` in the group. Example:
    `national_rows('force_quarters', ['period_end', 'offence_code'],
    complete_sum('offences') ~ ' as offences')`.
#}
{% macro national_rows(relation, group_by, measures) -%}
    select
        '{{ var("national_area_code") }}' as area_code,
        '{{ var("national_area_name") }}' as area_name,
        'national' as area_type,
        {%- for column in group_by %}
        {{ column }},
        {%- endfor %}
        {{ measures }}
    from {{ relation }}
    group by {{ group_by | join(', ') }}
{%- endmacro %}
