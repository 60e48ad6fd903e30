{#
    The regular expression (text, without quotes) of a span of months as the ONS
    Appendix tables head their columns, `apr 2002 to mar 2003` after
    normalise_name: groups 1-2 the first month and year, 3-4 the last.
#}
{% macro _month_span_pattern() -%}
    ^(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* (\d{4}) to (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]* (\d{4})$
{%- endmacro %}
