{#
    The outcome groups whose shares a force problem profile shows.
#}
{% macro profile_outcome_groups() -%}
    {{ return([
        'charged_summonsed',
        'evidential_difficulties_victim_does_not_support',
        'evidential_difficulties_victim_supports',
        'no_suspect_identified',
    ]) }}
{%- endmacro %}
