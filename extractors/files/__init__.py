"""CSV and JSON Lines files from a local path or an http(s) URL, optionally gzip or zip."""
