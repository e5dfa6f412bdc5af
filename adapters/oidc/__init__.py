"""OpenID Connect relying party over one httpx2 client: discovery, JWKS, the token request."""
