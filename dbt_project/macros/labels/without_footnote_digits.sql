{#
    An area name as the ONS tables print it, with footnote references removed
    and runs of white space collapsed, trimmed; NULL for an empty cell. A
    footnote reference is a run of digits, optionally a comma-separated list
    (`7,8`, `10, 11`), glued to a letter or `)` at the end of a word
    (`Surrey7,8`, `WALES10,11 x` -> `Surrey`, `WALES x`), or standing after a
    space at the very end of the name (`North West 7,8`). Digits inside a word
    (`A5a`) or before a letter are kept. Area names never end in a number, so a
    trailing one is always a footnote.
#}
{% macro without_footnote_digits(col) -%}
    nullif(trim(regexp_replace(
        regexp_replace(
            regexp_replace({{ col }}, '\s+', ' ', 'g'),
            '([A-Za-z)])\d+(?:\s*,\s*\d+)*(\s|$)', '\1\2', 'g'
        ),
        '\s+\d+(?:\s*,\s*\d+)*\s*$', ''
    )), '')
{%- endmacro %}
