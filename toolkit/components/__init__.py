"""The interfaces components implement: extractor and transformation plugins build on these.

The toolkit never imports a component; components import these (DESIGN §2).
"""
