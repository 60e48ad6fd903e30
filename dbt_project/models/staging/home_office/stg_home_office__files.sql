-- The load manifest: one row per file (per sheet for a workbook) loaded into raw.

with

files as (
    select * from {{ source('home_office', '_files') }}
),

final as (
    select
        file_name,
        file_path,
        sheet,
        source,
        layout,
        sha256,
        cast(size_bytes as bigint) as size_bytes,
        cast(rows as bigint) as rows,
        cast(header_row as integer) as header_row,
        cast(is_synthetic as boolean) as is_synthetic,
        preamble,
        cast(loaded_at as timestamp) as loaded_at
    from files
)

select * from final
