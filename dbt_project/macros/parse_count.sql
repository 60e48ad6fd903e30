{#
    Counts as published: whole numbers, possibly negative (a correction), possibly
    with thousands separators (`1,234`), or a suppression marker from the
    `suppression_markers` project variable (`..`, `[x]`, `[c]`, `[z]`, `*`, `-`,
    `NA`, `N/A`, `N/A - Offence code expired`, `N/A - data not provided`).
    Markers are recognised case-insensitively after trimming
    (`lower(trim(col))`), so `n/a - offence code expired` is a marker too.

    count_value(col):  the count as BIGINT; NULL for a marker (never zero). Text
                       that is neither (ingest refuses it) is NULL too, and the
                       staging tests report it as a missing count without a marker.
    count_marker(col): the marker in the spelling the variable lists it (`N/A`
                       for `n/a`), so markers can be grouped and tested; NULL when
                       the cell holds a number or nothing.
    is_suppression_marker(col): TRUE when the cell is a marker (BOOLEAN; NULL
                       for a NULL cell).
#}
{% macro suppression_marker_list() -%}
    {%- for marker in var('suppression_markers') -%}
        '{{ marker | lower | replace("'", "''") }}'{{ ", " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{% macro is_suppression_marker(col) -%}
    (lower(trim({{ col }})) in ({{ suppression_marker_list() }}))
{%- endmacro %}

{% macro count_value(col) -%}
    case
        when {{ is_suppression_marker(col) }} then null
        else try_cast(replace(trim({{ col }}), ',', '') as bigint)
    end
{%- endmacro %}

{% macro count_marker(col) -%}
    case lower(trim({{ col }}))
        {%- for marker in var('suppression_markers') %}
        when '{{ marker | lower | replace("'", "''") }}' then '{{ marker | replace("'", "''") }}'
        {%- endfor %}
    end
{%- endmacro %}
