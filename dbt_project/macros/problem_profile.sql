{#
    What a force problem profile holds, in one place: the int_force_profile_measures
    model builds these measures and the problem_profile mart turns each into three
    columns (the force, England and Wales, and the most similar group).

    profile_offence_groups(): the offence groups profiled.
    profile_outcome_groups(): the outcome groups whose shares are profiled.
    profile_measures(): every measure name with its kind: `count` (a number of
        crimes, outcomes or defendants; comparators are the England and Wales and
        the group totals) or `ratio` (numerator / denominator; comparators are the
        England and Wales and the group's own ratio of totals).
#}
{% macro profile_offence_groups() -%}
    {{ return(['stalking', 'harassment']) }}
{%- endmacro %}

{% macro profile_outcome_groups() -%}
    {{ return([
        'charged_summonsed',
        'evidential_difficulties_victim_does_not_support',
        'evidential_difficulties_victim_supports',
        'no_suspect_identified',
    ]) }}
{%- endmacro %}

{% macro profile_measures() -%}
    {%- set measures = [] -%}
    {%- for offence in profile_offence_groups() -%}
        {%- do measures.append((offence ~ '_offences', 'count')) -%}
        {%- do measures.append((offence ~ '_pct_change', 'ratio')) -%}
        {%- do measures.append((offence ~ '_rate_per_1000', 'ratio')) -%}
        {%- for outcome in profile_outcome_groups() -%}
            {%- do measures.append((offence ~ '_share_' ~ outcome, 'ratio')) -%}
        {%- endfor -%}
        {%- do measures.append((offence ~ '_prosecuted', 'count')) -%}
        {%- do measures.append((offence ~ '_convicted', 'count')) -%}
        {%- do measures.append((offence ~ '_conviction_ratio', 'ratio')) -%}
    {%- endfor -%}
    {%- do measures.append(('harassment_to_stalking_ratio', 'ratio')) -%}
    {{ return(measures) }}
{%- endmacro %}
