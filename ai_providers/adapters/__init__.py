"""One module per provider; each registers itself in ai_providers.registry."""
