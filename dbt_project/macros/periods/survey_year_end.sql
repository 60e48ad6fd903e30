{#
    The calendar year a Crime Survey year ends in (the survey year runs April to
    March): `2015/16`, `2015-16`, `2015_16` and `year ending March 2016` (also
    `year ending Mar 2016`, `YE Mar 2016`) all give 2016. A label whose two
    halves do not follow on (`2015/17`) or a year ending in another month is
    NULL.
#}
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
