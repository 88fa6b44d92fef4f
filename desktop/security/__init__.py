"""Security and personal data: encryption at rest of the store (desktop.store.cipher),
a person's export and erasure (PIPL / GDPR)."""
