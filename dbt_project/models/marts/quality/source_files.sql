-- Every file (and workbook sheet, or file inside a zip archive) the warehouse is built
-- from now, with its checksum and whether it is synthetic: the dashboards show a
-- synthetic-data banner when any is. A release whose rows a later release has wholly
-- replaced is left out here; the full history is in staging.stg_hsinsight__files and
-- what each release revised in staging.stg_hsinsight__release_changes.

with

files as (
    select * from {{ ref('stg_hsinsight__files') }}
),

{%- set staged = [
    'stg_home_office__recorded_crime',
    'stg_home_office__outcomes',
    'stg_ons__pfa_recorded_crime',
    'stg_ons__population',
    'stg_csew__prevalence',
    'stg_cps__vawg',
    'stg_moj__court_outcomes',
    'stg_moj__restraining_orders',
] %}

rows_in_use as (
    {%- for model in staged %}
    select distinct _sha256, _sheet from {{ ref(model) }}
    {{ "union" if not loop.last }}
    {%- endfor %}
),

current_files as (
    select files.*
    from files
    where exists (
        select 1 from rows_in_use
        where rows_in_use._sha256 = files.sha256
            and rows_in_use._sheet is not distinct from files.sheet
    )
),

final as (
    select
        cast(file_name as varchar) as file_name,
        cast(sheet as varchar) as sheet,
        cast(source as varchar) as source,
        cast(layout as varchar) as layout,
        cast(sha256 as varchar) as sha256,
        cast(size_bytes as bigint) as size_bytes,
        cast(rows as bigint) as rows,
        cast(is_synthetic as boolean) as is_synthetic,
        cast(loaded_at as timestamp) as loaded_at
    from current_files
)

select * from final
