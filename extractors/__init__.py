"""Built-in extractors. Each module holds a ``Config`` model and an ``Extractor`` class.

Modules are imported by name through ``registry.load`` so that validating a project
never imports a database driver.
"""
