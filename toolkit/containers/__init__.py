"""Components of ``type: container`` (docs/components.md): where their image runs, what it is
given, and what Headrace checks before it loads what the image wrote.

- ``plan``: at compile time, the image (named, or the tag of a build folder's content) and the
  worker that runs it;
- ``stage``: ``/data/config.json`` and a transformation's inputs as table files;
- ``image``: building a ``build:`` folder on the engine that runs it;
- ``outputs``: ``/data/out/tables`` checked against the declared tables and their ``schema.json``;
- ``task``: one run, from staging to the loads (``headrace.runner`` hands the task over).
"""
