{#
    The offence groups a force problem profile covers
    (int_force_profile_measures and problem_profile): stalking and harassment.
#}
{% macro profile_offence_groups() -%}
    {{ return(['stalking', 'harassment']) }}
{%- endmacro %}
