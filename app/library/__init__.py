"""The content library as code: load, validate and check modules and value sets from `content/`."""
