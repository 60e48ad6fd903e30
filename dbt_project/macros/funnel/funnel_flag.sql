{#
    Where a value falls against its control limits: above_998, above_95,
    below_998, below_95 or within; NULL when the value or the 95% limits are
    missing.
#}
{% macro funnel_flag(value, lower_95, upper_95, lower_998, upper_998) -%}
    case
        when {{ value }} is null or {{ lower_95 }} is null or {{ upper_95 }} is null then null
        when {{ value }} > {{ upper_998 }} then 'above_998'
        when {{ value }} > {{ upper_95 }} then 'above_95'
        when {{ value }} < {{ lower_998 }} then 'below_998'
        when {{ value }} < {{ lower_95 }} then 'below_95'
        else 'within'
    end
{%- endmacro %}
