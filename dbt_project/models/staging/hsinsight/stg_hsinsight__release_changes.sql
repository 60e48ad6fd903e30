-- What changed when a new release of a source replaced the rows of a period an
-- earlier file had loaded: one row per source x period x replacing file, as
-- ingest recorded it. A period loaded for the first time has no row here.

with

release_changes as (
    select * from {{ source('hsinsight', '_release_changes') }}
),

final as (
    select
        source,
        period,
        previous_file,
        previous_sha256,
        new_file,
        new_sha256,
        cast(rows_added as bigint) as rows_added,
        cast(rows_removed as bigint) as rows_removed,
        cast(rows_revised as bigint) as rows_revised,
        cast(count_change as bigint) as count_change,
        coalesce(rows_added, 0) + coalesce(rows_removed, 0) + coalesce(rows_revised, 0) > 0
            as has_row_changes,
        cast(detected_at as timestamp) as detected_at
    from release_changes
)

select * from final
