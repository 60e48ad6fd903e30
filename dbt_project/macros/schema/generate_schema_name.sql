{#
    Use a custom schema name exactly as configured (`reference`, `staging`,
    `intermediate`, `marts`) instead of dbt's default `<target schema>_<custom
    schema>`, so the dashboards, the quality checks and analysts' own SQL can
    name the tables `marts.recorded_crime_12m` whatever the target. Nodes
    without a custom schema fall back to the target's schema.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
