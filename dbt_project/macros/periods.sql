{#
    Periods other than financial quarters (financial_periods.sql has those).

    calendar_year(col): a four-digit calendar year (`2016`, the Ministry of
        Justice and ONS mid-year estimates) as INTEGER; NULL for anything else.

    calendar_quarter(col): a calendar quarter 1-4 (INTEGER) written `1`, `Q1`,
        `Quarter 1`, `2016 Q1` or with an MoJ code prefix (`01: Q1`); NULL for
        anything else, including an empty cell (a file without quarters).

    survey_year_end(col): the calendar year a Crime Survey year ends in (the
        survey year runs April to March): `2015/16`, `2015-16` or `2015_16` and
        `year ending March 2016` (also `year ending Mar 2016`, `YE Mar 2016`) all
        give 2016. A label whose two halves do not follow on (`2015/17`) or a year
        ending in another month is NULL.
    survey_year_label(end_year): the canonical label of a survey year, `2015/16`.

    twelve_months_end(col): the last day (DATE) of the 12 months an ONS table
        title names, `year ending December 2016` -> 2016-12-31 (any case; the
        month may be abbreviated to its first three letters). NULL for anything
        else.
#}
{% macro calendar_year(col) -%}
    try_cast(nullif(regexp_extract(trim({{ col }}), '^(\d{4})$', 1), '') as integer)
{%- endmacro %}

{% macro calendar_quarter(col) -%}
    try_cast(nullif(regexp_extract(
        lower({{ without_code_prefix(col) }}),
        '^(?:\d{4}\s*)?(?:q|quarter)?\s*([1-4])$',
        1
    ), '') as integer)
{%- endmacro %}

{% macro survey_year_end(col) -%}
    case
        when regexp_matches(trim({{ col }}), '^\d{4}[/_-]\d{2}$')
            and (cast(left(trim({{ col }}), 4) as integer) + 1) % 100
                = cast(right(trim({{ col }}), 2) as integer)
            then cast(left(trim({{ col }}), 4) as integer) + 1
        when regexp_matches(lower(trim({{ col }})), '^(?:year ending|ye) mar(?:ch)? \d{4}$')
            then cast(right(trim({{ col }}), 4) as integer)
    end
{%- endmacro %}

{% macro survey_year_label(end_year) -%}
    {{ financial_year_label('(' ~ end_year ~ ' - 1)') }}
{%- endmacro %}

{% macro _month_prefixes() -%}
    ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
{%- endmacro %}

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


{#
    Periods written as a span of months, as the ONS Appendix tables head their
    columns: `Apr 2002 to Mar 2003` (a financial year), `Oct 2024 to Sep 2025` (a
    rolling 12 months). Line breaks and doubled spaces in the header are allowed;
    months are full or three-letter names, any case.

    month_span_start(col): the first day of the first month (DATE), 2002-04-01.
    month_span_end(col): the last day of the last month (DATE), 2003-03-31.
    Both NULL for text of any other shape.
#}
{% macro _month_span_pattern() -%}
    ^(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* (\d{4}) to (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* (\d{4})$
{%- endmacro %}

{% macro _month_span_part(col, group) -%}
    nullif(regexp_extract({{ normalise_name(col) }}, '{{ _month_span_pattern() }}', {{ group }}), '')
{%- endmacro %}

{% macro month_span_start(col) -%}
    make_date(
        cast({{ _month_span_part(col, 2) }} as integer),
        list_position({{ _month_prefixes() }}, {{ _month_span_part(col, 1) }}),
        1
    )
{%- endmacro %}

{% macro month_span_end(col) -%}
    last_day(make_date(
        cast({{ _month_span_part(col, 4) }} as integer),
        list_position({{ _month_prefixes() }}, {{ _month_span_part(col, 3) }}),
        1
    ))
{%- endmacro %}
