{#
    A name as it is compared with the force name variants seed: lower case, runs
    of white space (spaces, tabs, line breaks) collapsed to one space and
    trimmed. `Devon & Cornwall ` and `devon & cornwall` compare equal.
    hsinsight.sources.base.normalise_name does the same in Python, and ingest
    refuses a force name that does not match the seed this way.
#}
{% macro normalise_name(col) -%}
    lower(trim(regexp_replace({{ col }}, '\s+', ' ', 'g')))
{%- endmacro %}
