-- The load manifest: one row per file (per sheet for a workbook, per member for a
-- zip archive) loaded into raw, with its types pinned and the periods it covers
-- as a list.

with

files as (
    select * from {{ source('hsinsight', '_files') }}
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
        cast(loaded_at as timestamp) as loaded_at,
        nullif(trim(periods), '') as periods,
        list_filter(
            list_transform(string_split(coalesce(periods, ''), ','), lambda period: trim(period)),
            lambda period: period <> ''
        ) as period_list
    from files
)

select * from final
