{#
    The ONS offence subgroup *Stalking and harassment* (Violence against the
    person) is the sum of five Home Office offence codes over the years each
    exists (docs/sources.md, section 1; ONS Appendix Table A5a): 8L harassment and 8M
    racially or religiously aggravated harassment throughout, 8Q stalking from
    April 2014, 8R malicious communications from April 2017, 8U controlling or
    coercive behaviour from April 2020. The membership is the publisher's
    definition, not the platform's choice, so it is written down here rather than
    read from the offence_codes seed: a total built from the Home Office
    quarterly data counts as the subgroup only when every member code valid in
    the quarter is in the warehouse (without 8U in the offence_codes seed, no
    quarter from April 2020 is complete).

    stalking_and_harassment_codes(): the member codes with the first day each
        belongs to the subgroup, as (code, 'YYYY-MM-DD') pairs.
    stalking_and_harassment_codes_relation(): the same as a SQL relation with
        columns offence_code (VARCHAR) and valid_from (DATE), for a CTE:

            subgroup_codes as (
                {{ stalking_and_harassment_codes_relation() }}
            )
#}
{% macro stalking_and_harassment_codes() -%}
    {{ return([
        ('8L', '2002-04-01'),
        ('8M', '2002-04-01'),
        ('8Q', '2014-04-01'),
        ('8R', '2017-04-01'),
        ('8U', '2020-04-01'),
    ]) }}
{%- endmacro %}

{% macro stalking_and_harassment_codes_relation() -%}
    select offence_code, cast(valid_from as date) as valid_from
    from (values
        {%- for code, valid_from in stalking_and_harassment_codes() %}
        ('{{ code }}', '{{ valid_from }}'){{ "," if not loop.last }}
        {%- endfor %}
    ) as subgroup_codes(offence_code, valid_from)
{%- endmacro %}
