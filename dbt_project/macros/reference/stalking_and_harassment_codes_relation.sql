{#
    stalking_and_harassment_codes as a SQL relation with columns offence_code
    (VARCHAR) and valid_from (DATE), for a CTE.
#}
{% macro stalking_and_harassment_codes_relation() -%}
    select offence_code, cast(valid_from as date) as valid_from
    from (values
        {%- for code, valid_from in stalking_and_harassment_codes() %}
        ('{{ code }}', '{{ valid_from }}'){{ "," if not loop.last }}
        {%- endfor %}
    ) as subgroup_codes(offence_code, valid_from)
{%- endmacro %}
