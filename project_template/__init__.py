"""The example project that `headrace init` copies (this file is not copied)."""
