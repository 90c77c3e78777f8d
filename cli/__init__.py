"""`flask --app main ...` commands."""
