"""What the SQL warehouses share: one implementation of loads, merges, publishing and
``headrace_meta`` (``sqlwarehouse``, ``loads``, ``meta``) and the handling of stored parts
(``parts``), parameterised by each warehouse's capabilities and a few hooks."""
