-- Every count or rate cell a new release changed for a row an earlier release
-- had already loaded: the previous and new text, and their difference when both
-- are numbers.

with

revised_cells as (
    select * from {{ source('hsinsight', '_revised_cells') }}
),

final as (
    select
        source,
        period,
        new_file,
        row_key,
        column_name,
        previous_value,
        new_value,
        {{ decimal_value('new_value') }} - {{ decimal_value('previous_value') }} as value_change,
        cast(detected_at as timestamp) as detected_at
    from revised_cells
)

select * from final
