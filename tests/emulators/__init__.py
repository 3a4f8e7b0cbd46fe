"""Emulators the tests start themselves, each a real server on 127.0.0.1 in its own process
group (DESIGN §7): ``server.py`` starts and stops one; a module per emulator knows its command
and how to tell it is ready. Session fixtures for them live in ``tests/conftest.py``."""
