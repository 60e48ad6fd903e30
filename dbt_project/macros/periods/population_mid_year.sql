{#
    The ONS mid-year whose population a 12-month window ending at `period_end`
    is divided by: the year of the window's middle (six months before its end).
    The 12 months to December 2016 and to March 2017 both use mid-2016, as the
    ONS does for its rates per 1,000.
#}
{% macro population_mid_year(period_end) -%}
    cast(extract(year from ({{ period_end }} - interval 6 month)) as integer)
{%- endmacro %}
