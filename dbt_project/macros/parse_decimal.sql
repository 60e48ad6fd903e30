{#
    Decimal numbers as published: rates, percentages and their confidence
    limits, written `72.4`, `72.4%`, `0.724`, `1,234.5`, or a suppression marker
    (see parse_count.sql; the marker itself comes from `count_marker`).

    decimal_value(col): the number as DOUBLE with any `%` sign, thousands
        separators and spaces removed; NULL for a marker or unreadable text.
        `72.4%` gives 72.4: it does not rescale.

    percentage_to_proportion(col): a column that always holds percentages
        (0-100, such as the Crime Survey's `percentage`), as a proportion 0-1.

    Dividing by 100 in binary floating point leaves noise (72.4 / 100 is
    0.7240000000000001), so both conversions round the proportion to 8 decimal
    places: far finer than any published rate.

    is_percentage_text(col): TRUE when the text is plainly a percentage: it
        carries a `%` sign or its number is greater than 1 (a proportion
        cannot be). FALSE otherwise, including for markers and NULL.

    rate_to_proportion(col, written_as_percentage=none): a rate that a publisher
        may write either as a percentage or as a proportion, as a proportion
        0-1. The rule: a value is a percentage, and is divided by 100, when
        `written_as_percentage` (a boolean SQL expression) is true; without that
        argument, when `is_percentage_text` says so (`72.4` and `72.4%` are
        percentages, `0.724` a proportion). So `72.4`, `72.4%` and `0.724` all
        give 0.724. The row rule cannot tell a 0.5% rate from a proportion of 0.5,
        and reads `1` as 100%: a model whose file is consistent passes a
        file-level expression instead (stg_cps__vawg does: one value written as a
        percentage makes the whole file percentages).
#}
{% macro decimal_value(col) -%}
    case
        when {{ is_suppression_marker(col) }} then null
        else try_cast(
            regexp_replace(trim({{ col }}), '[,%\s]', '', 'g') as double
        )
    end
{%- endmacro %}

{% macro percentage_to_proportion(col) -%}
    round({{ decimal_value(col) }} / 100.0, 8)
{%- endmacro %}

{% macro is_percentage_text(col) -%}
    coalesce(
        {{ decimal_value(col) }} is not null
        and (contains({{ col }}, '%') or {{ decimal_value(col) }} > 1),
        false
    )
{%- endmacro %}

{% macro rate_to_proportion(col, written_as_percentage=none) -%}
    {%- set as_percentage = written_as_percentage if written_as_percentage is not none else is_percentage_text(col) -%}
    case
        when {{ as_percentage }} then round({{ decimal_value(col) }} / 100.0, 8)
        else {{ decimal_value(col) }}
    end
{%- endmacro %}
