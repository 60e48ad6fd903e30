{#
    Counts as published: whole numbers, possibly negative (a correction), possibly
    with thousands separators (`1,234`), or a suppression marker from the
    `suppression_markers` project variable (`..`, `[x]`, `[c]`, `[z]`, `*`, `-`).

    count_value(col):  the count as BIGINT; NULL for a marker (never zero). Text
                       that is neither (ingest refuses it) is NULL too, and the
                       staging tests report it as a missing count without a marker.
    count_marker(col): the marker itself; NULL when the cell holds a number.
#}
{% macro suppression_marker_list() -%}
    {%- for marker in var('suppression_markers') -%}
        '{{ marker }}'{{ ", " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{% macro count_value(col) -%}
    case
        when trim({{ col }}) in ({{ suppression_marker_list() }}) then null
        else try_cast(replace(trim({{ col }}), ',', '') as bigint)
    end
{%- endmacro %}

{% macro count_marker(col) -%}
    case
        when trim({{ col }}) in ({{ suppression_marker_list() }}) then trim({{ col }})
    end
{%- endmacro %}
