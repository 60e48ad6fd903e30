{#
    A label as it is compared with a seed: normalise_name after turning en and
    em dashes into hyphens.
#}
{% macro normalise_label(col) -%}
    {{ normalise_name("replace(replace(" ~ col ~ ", '–', '-'), '—', '-')") }}
{%- endmacro %}
