{# An amount in whole cents: the marts sum integers, which every warehouse adds exactly. #}
{% macro to_cents(amount) -%}
    cast(round({{ amount }} * 100, 0) as bigint)
{%- endmacro %}
