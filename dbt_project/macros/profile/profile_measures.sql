{#
    Every measure of a force problem profile as (name, kind) pairs: `count` (a
    number of crimes, outcomes or defendants; its comparators are the England
    and Wales and the peer group totals) or `ratio` (numerator / denominator;
    its comparators are the England and Wales and the peer group's own ratio of
    totals). int_force_profile_measures builds each, and the problem_profile
    mart turns each into three columns (the force, England and Wales, and the
    peer group).
#}
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
