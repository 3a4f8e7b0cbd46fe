"""Built-in extractors. Each is a plugin (``headrace.extractors`` entry point): a package whose
``__init__`` holds the ``Plugin`` record and config model, and whose ``extractor`` module
(imported only when a task runs) holds the ``Extractor`` class.
"""
