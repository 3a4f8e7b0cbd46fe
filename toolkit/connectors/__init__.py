"""Connections to outside systems shared by extractors and warehouses (one module per system).

Extractors and warehouses never import each other; what both need to open a connection
(settings, session set-up, errors a user can act on) lives here.
"""
