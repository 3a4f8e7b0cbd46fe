"""PostgreSQL source: tables or queries streamed with COPY into the table file contract."""
