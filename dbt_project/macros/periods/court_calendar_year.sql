{#
    The calendar year whose court figures (Ministry of Justice, January to
    December) go with a 12-month period ending at `period_end`: the latest
    calendar year that ended on or before it. The 12 months to December 2016 and
    to March 2017 both take 2016.
#}
{% macro court_calendar_year(period_end) -%}
    cast(
        case
            when extract(month from {{ period_end }}) = 12 then extract(year from {{ period_end }})
            else extract(year from {{ period_end }}) - 1
        end as integer
    )
{%- endmacro %}
