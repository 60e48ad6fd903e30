{#
    The suppression marker a cell holds, in the spelling the
    `suppression_markers` variable lists it (`N/A` for `n/a`), so markers can be
    grouped and tested; NULL when the cell holds a number or nothing.
#}
{% macro count_marker(col) -%}
    case lower(trim({{ col }}))
        {%- for marker in var('suppression_markers') %}
        when '{{ marker | lower | replace("'", "''") }}' then '{{ marker | replace("'", "''") }}'
        {%- endfor %}
    end
{%- endmacro %}
