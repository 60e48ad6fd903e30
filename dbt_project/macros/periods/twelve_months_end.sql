{#
    The last day (DATE) of the 12 months an ONS table title names: `year ending
    December 2016` -> 2016-12-31 (any case; the month may be abbreviated to its
    first three letters). NULL for anything else.
#}
{% macro twelve_months_end(col) -%}
    case
        when regexp_matches(
            lower(trim({{ col }})),
            '^year ending (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* \d{4}$'
        )
            then last_day(make_date(
                cast(right(trim({{ col }}), 4) as integer),
                list_position(
                    {{ _month_prefixes() }},
                    left(regexp_extract(lower(trim({{ col }})), '^year ending ([a-z]+)', 1), 3)
                ),
                1
            ))
    end
{%- endmacro %}
