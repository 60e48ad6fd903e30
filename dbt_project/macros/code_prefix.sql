{#
    Ministry of Justice category values carry a numeric code before the label:
    `01: Convicted`, `15: Immediate custody`, `02: Magistrates Court`, and in
    older files `01 Indictable only` with no colon. The offence column instead
    starts with a Home Office offence code: `105A Common assault`, `8.22 Assault of
    an emergency worker`, `125B ...`.

    code_prefix(col): the one- or two-digit code before a colon (`01: 10-11` ->
        `01`), or before a space when a word follows (`01 Indictable only` ->
        `01`); NULL when there is none (`25+`, `10-11`, `Not known`).
    without_code_prefix(col): the label after that code, trimmed; the whole value
        (trimmed) when there is no code; NULL for an empty cell.

    offence_code_prefix(col): the Home Office offence code at the start of an
        offence label (1-3 digits, up to two letters, and an optional `.nn` or
        `/nn` part), upper case, when a word follows it; NULL when there is none.
    without_offence_code_prefix(col): the offence label after that code, or the
        whole label when there is none.

    normalise_label(col): a label as it is compared with a seed: `normalise_name`
        after turning en and em dashes into hyphens.
#}
{% macro code_prefix(col) -%}
    nullif(regexp_extract(trim({{ col }}), '^(\d{1,2})(?:\s*:\s*\S|\s+[A-Za-z(])', 1), '')
{%- endmacro %}

{% macro without_code_prefix(col) -%}
    case
        when {{ code_prefix(col) }} is not null
            then trim(regexp_replace(trim({{ col }}), '^\d{1,2}\s*:?\s*', ''))
        else nullif(trim({{ col }}), '')
    end
{%- endmacro %}

{% macro _offence_code_pattern() -%}
    ^(\d{1,3}[A-Za-z]{0,2}(?:[./]\d{1,3}[A-Za-z]?)?)\s*:?\s+
{%- endmacro %}

{% macro offence_code_prefix(col) -%}
    nullif(upper(regexp_extract(trim({{ col }}), '{{ _offence_code_pattern() }}[A-Za-z(]', 1)), '')
{%- endmacro %}

{% macro without_offence_code_prefix(col) -%}
    case
        when {{ offence_code_prefix(col) }} is not null
            then trim(regexp_replace(trim({{ col }}), '{{ _offence_code_pattern() }}', ''))
        else nullif(trim({{ col }}), '')
    end
{%- endmacro %}

{% macro normalise_label(col) -%}
    {{ normalise_name("replace(replace(" ~ col ~ ", '–', '-'), '—', '-')") }}
{%- endmacro %}
