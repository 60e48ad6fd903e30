{#
    The complete 12-month windows of a quarterly series, one row per partition,
    window end and quarter inside it. `quarters_cte` holds exactly one row per
    partition and `period_end` for every quarter that is present and counted
    (the caller leaves out quarters that are missing or suppressed). A window
    ends at each quarter end and holds the quarters ending 0, 3, 6 and 9 months
    before it, found by date arithmetic rather than by counting rows back: a
    missing quarter can never pull an older one into the window, and windows run
    across financial-year boundaries (the 12 months to 31 December 2016 =
    2015/16 Q4 + 2016/17 Q1-Q3). Only windows with all four quarters are
    returned. Columns: the partition columns, `period_end` (the window's last
    quarter end) and `quarter_end`, so the caller joins its values on partition
    and quarter_end and sums them.
#}
{% macro twelve_month_windows(quarters_cte, partition_columns) -%}
    {%- set on_partition -%}
        {%- for column in partition_columns %}
        in_window.{{ column }} is not distinct from window_end.{{ column }} and
        {%- endfor %}
    {%- endset -%}
    select
        {%- for column in partition_columns %}
        window_end.{{ column }},
        {%- endfor %}
        window_end.period_end,
        in_window.period_end as quarter_end
    from {{ quarters_cte }} as window_end
    inner join {{ quarters_cte }} as in_window
        on {{ on_partition }}
        in_window.period_end <= window_end.period_end
        and in_window.period_end > window_end.period_end - interval 12 month
    qualify count(*) over (
        partition by
            {%- for column in partition_columns %}
            window_end.{{ column }},
            {%- endfor %}
            window_end.period_end
    ) = 4
{%- endmacro %}
