"""Developer and demo tools: fixture FHIR server and friends (never used in production paths)."""
