{#
    A join condition, true when a quarter lies wholly inside an offence code's
    validity dates in the offence_codes seed: 8Q from 2014/15, 8R from 2017/18.
    Outside them the code is not one of the platform's and its offence group
    stays NULL.
#}
{% macro within_code_validity(period_start, period_end, codes) -%}
    {{ period_start }} >= {{ codes }}.valid_from
    and ({{ codes }}.valid_to is null or {{ period_end }} <= {{ codes }}.valid_to)
{%- endmacro %}
