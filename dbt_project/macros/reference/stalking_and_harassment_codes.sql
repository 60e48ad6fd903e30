{#
    The Home Office offence codes that make up the ONS offence subgroup
    *Stalking and harassment* (Violence against the person; ONS Appendix Table
    A5a), with the first day each belongs to it, as (code, 'YYYY-MM-DD') pairs:
    8L harassment and 8M racially or religiously aggravated harassment
    throughout, 8Q stalking from April 2014, 8R malicious communications from
    April 2017, 8U controlling or coercive behaviour from April 2020. The
    membership is the publisher's definition, not the platform's, so it is
    written down here rather than read from the offence_codes seed: a total
    built from the Home Office quarterly data counts as the subgroup only when
    every member code valid in the quarter is in the warehouse.
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
