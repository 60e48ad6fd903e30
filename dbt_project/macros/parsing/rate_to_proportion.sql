{#
    A rate that a publisher may write either as a percentage or as a proportion,
    as a proportion 0-1 rounded to 8 decimal places. A value is a percentage,
    and is divided by 100, when `written_as_percentage` is true; without that
    argument, when is_percentage_text says so (`72.4`, `72.4%` and `0.724` all
    give 0.724). The row rule cannot tell a 0.5% rate from a proportion of 0.5
    and reads `1` as 100%, so a model whose file is consistent passes a
    file-level expression instead (stg_cps__vawg does: one value written as a
    percentage makes the whole file percentages).
#}
{% macro rate_to_proportion(col, written_as_percentage=none) -%}
    {%- set as_percentage = written_as_percentage if written_as_percentage is not none else is_percentage_text(col) -%}
    case
        when {{ as_percentage }} then round({{ decimal_value(col) }} / 100.0, 8)
        else {{ decimal_value(col) }}
    end
{%- endmacro %}
