"""Reads of the cache: `query.EndUserQuery` (counts, pages, facets, exports) and how a read runs
(`plan`: the planner and keyset paging; `results`, `tuples`: what comes back), the plain sqlite3
read connections (`read_pool`), which read goes first (`turns`), and the `Cache`'s own reads of
outbox, conflicts, audit and sync runs (`store_reads`).

A filter travels: `filters.language.parse_filter` -> `plan.QueryPlanner` -> `filters.sql` -> SQL.
"""
