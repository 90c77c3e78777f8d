"""Flask views, forms, auth, security, serializers, OpenAPI (imports everything below)."""
