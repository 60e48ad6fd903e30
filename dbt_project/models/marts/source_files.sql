-- Every file (and workbook sheet) the warehouse was built from, with its checksum and
-- whether it is synthetic: the dashboards show a synthetic-data banner when any is.

with

files as (
    select * from {{ ref('stg_home_office__files') }}
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
    from files
)

select * from final
