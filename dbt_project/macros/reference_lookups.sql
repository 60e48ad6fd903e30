{#
    Lookups on the reference seeds that several staging models share.

    reporting_bodies_lookup(variants_cte, key_column): one row per spelling of a
    force or reporting body, normalised with `normalise_name` and named
    `key_column`, with its area code and body type. `variants_cte` is the model's
    import CTE of the force_name_variants seed. Spellings that differ only in case or
    spacing (`CIFAS`, `Cifas`) are one name; a name mapped to two different bodies
    would give a raw row two staging rows, which each model's unique test on the raw
    row catches.

    within_code_validity(period_start, period_end, codes): join condition true when a
    quarter lies wholly inside an offence code's validity dates in the offence_codes
    seed (`codes` is its CTE name): 8Q from 2014/15, 8R from 2017/18. Outside them the
    code is not one of the platform's and its offence group stays NULL.
#}
{% macro reporting_bodies_lookup(variants_cte, key_column) -%}
    select distinct
        {{ normalise_name('name_variant') }} as {{ key_column }},
        area_code,
        reporting_body_type
    from {{ variants_cte }}
{%- endmacro %}

{% macro within_code_validity(period_start, period_end, codes) -%}
    {{ period_start }} >= {{ codes }}.valid_from
    and ({{ codes }}.valid_to is null or {{ period_end }} <= {{ codes }}.valid_to)
{%- endmacro %}
