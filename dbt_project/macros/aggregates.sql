{#
    complete_sum(col): the sum of `col` over the group, or NULL when any row's
    value is NULL (a suppressed or missing count). A total silently short of a
    suppressed cell would look like a real figure; NULL says there is none.
#}
{% macro complete_sum(col) -%}
    case when count({{ col }}) = count(*) then sum({{ col }}) end
{%- endmacro %}

{#
    national_rows(relation, group_by, measures): the England and Wales rows of a
    mart that adds up its force rows: area_code K04000001, area_name and area_type
    `national`, the `group_by` columns, and `measures` (SQL select-list text, the
    aggregates with their names) over every row of `relation` in the group.

        national_quarters as (
            {{ national_rows('force_quarters', ['period_end', 'offence_code'],
                             complete_sum('offences') ~ ' as offences') }}
        )
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
