{#
    The regular expression (text, without quotes) of a Home Office offence code
    at the start of an offence label: 1-3 digits, up to two letters, an optional
    `.nn` or `/nn` part, then an optional colon and white space. Shared by
    offence_code_prefix and without_offence_code_prefix.
#}
{% macro _offence_code_pattern() -%}
    ^(\d{1,3}[A-Za-z]{0,2}(?:[./]\d{1,3}[A-Za-z]?)?)\s*:?\s+
{%- endmacro %}
