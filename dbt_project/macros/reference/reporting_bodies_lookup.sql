{#
    A select of one row per spelling of a force or reporting body, normalised
    with normalise_name and named `key_column`, with its area code and body
    type. Spellings that differ only in case or spacing (`CIFAS`, `Cifas`) are
    one name; a name mapped to two different bodies would give a raw row two
    staging rows, which each model's unique test on the raw row catches.
#}
{% macro reporting_bodies_lookup(variants_cte, key_column) -%}
    select distinct
        {{ normalise_name('name_variant') }} as {{ key_column }},
        area_code,
        reporting_body_type
    from {{ variants_cte }}
{%- endmacro %}
