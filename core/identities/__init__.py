"""Sign-in through OpenID Connect providers, and the identities linked to local accounts."""
