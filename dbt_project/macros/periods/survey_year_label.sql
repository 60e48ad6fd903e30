{#
    The canonical label of a Crime Survey year, `2015/16`, for the year it ends
    in.
#}
{% macro survey_year_label(end_year) -%}
    {{ financial_year_label('(' ~ end_year ~ ' - 1)') }}
{%- endmacro %}
