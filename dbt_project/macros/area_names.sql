{#
    Area names as the ONS tables print them carry footnote references glued to
    the name and stray spaces: `ENGLAND AND WALES8`, `Surrey7,8`, `North West9`,
    `London10`, `North West 7,8`, `West Midlands ` (the region, beside the force
    `West Midlands`). Areas are matched on their ONS code wherever there is one;
    the cleaned name is for display and for the few rows without a code (British
    Transport Police).

    without_footnote_digits(col): the name with footnote references removed and
        runs of white space collapsed, trimmed; NULL for an empty cell. A footnote
        reference is a run of digits, optionally a comma-separated list (`7,8`,
        `10, 11`), glued to a letter or `)` at the end of a word (`Surrey7,8`,
        `WALES10,11 x` -> `Surrey`, `WALES x`), or standing after a space at the
        very end of the name (`North West 7,8`). Digits inside a word (`A5a`) or
        before a letter are kept. Area names never end in a number, so a
        trailing one is always a footnote.

    ons_area_ctes(parsed_cte): the CTEs the two staging models of the ONS police
        force area tables (P1 and P3) share, following their `parsed_cte` (which
        has `area_code_as_written`, the cleaned `area_name` and `period_end`):
        `reporting_bodies`, `with_area_code` (the code as written, or, for a row
        without one such as British Transport Police, the code of the reporting
        body its name is a variant of), `with_periods` (`period_start`, the first
        day of the month eleven months before the last, so a February end never
        shifts it, and the canonical `period_label`), `area_types` and
        `with_area_type` (national, country, region or force, from the seeds). The
        model goes on from `with_area_type`. It needs the import CTEs `forces`,
        `other_areas` and `force_name_variants`.
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


{% macro ons_area_ctes(parsed_cte) -%}
reporting_bodies as (
    {{ reporting_bodies_lookup('force_name_variants', 'name_key') }}
),

with_area_code as (
    select
        {{ parsed_cte }}.*,
        coalesce({{ parsed_cte }}.area_code_as_written, reporting_bodies.area_code) as area_code
    from {{ parsed_cte }}
    left join reporting_bodies
        on {{ parsed_cte }}.area_code_as_written is null
        and {{ normalise_name(parsed_cte ~ '.area_name') }} = reporting_bodies.name_key
),

with_periods as (
    select
        *,
        cast(date_trunc('month', period_end) - interval 11 month as date) as period_start,
        'year ending ' || strftime(period_end, '%B %Y') as period_label
    from with_area_code
),

area_types as (
    select area_code, 'force' as area_type from forces
    union all
    select area_code, area_type from other_areas
),

with_area_type as (
    select
        with_periods.*,
        area_types.area_type
    from with_periods
    left join area_types
        on with_periods.area_code = area_types.area_code
)
{%- endmacro %}
