{#
    The sum of `col` over the group, or NULL when any row's value is NULL (a
    suppressed or missing count). A total silently short of a suppressed cell
    would look like a real figure; NULL says there is none.
#}
{% macro complete_sum(col) -%}
    case when count({{ col }}) = count(*) then sum({{ col }}) end
{%- endmacro %}
