{#
    A count as published (whole number, possibly negative for a correction,
    possibly with thousands separators, `1,234`) as BIGINT; NULL for a
    suppression marker (never zero). Text that is neither (ingest refuses it) is
    NULL too, and the staging tests report it as a missing count without a
    marker.
#}
{% macro count_value(col) -%}
    case
        when {{ is_suppression_marker(col) }} then null
        else try_cast(replace(trim({{ col }}), ',', '') as bigint)
    end
{%- endmacro %}
