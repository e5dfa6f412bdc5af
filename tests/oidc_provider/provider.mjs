// A real OpenID provider (panva/oidc-provider, OpenID Certified) on 127.0.0.1 for Conduit's
// OIDC tests (tests/oidc_live.py starts it). Configuration from the environment:
//   OIDC_ISSUER   the issuer URL (the tests' proxy in front of this process)
//   OIDC_PORT     where to listen (127.0.0.1)
//   OIDC_KEYS     a file with the signing keys, a private JWK Set (read again on rotation)
//   OIDC_CLIENTS  a JSON list of client registrations
// Test-only routes beside the provider's own:
//   POST /__accounts  {"sub", "email", "email_verified", "name", ...}  an account to log in as
//   POST /__rotate    sign with the keys now in OIDC_KEYS (a new provider instance)
// Logging in uses devInteractions: POST /interaction/<uid> prompt=login&login=<sub>, then
// prompt=consent. Prints "listening <port>" once it accepts connections.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import Provider from 'oidc-provider';

const issuer = process.env.OIDC_ISSUER;
const port = Number(process.env.OIDC_PORT);
const keysFile = process.env.OIDC_KEYS;
const clients = JSON.parse(process.env.OIDC_CLIENTS);
const accounts = new Map();

function build() {
  const provider = new Provider(issuer, {
    clients,
    jwks: JSON.parse(readFileSync(keysFile, 'utf8')),
    cookies: { keys: ['conduit-test-cookie-key'] },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username', 'picture'],
    },
    // The claims of the scopes asked go in the ID token (the relying party reads only it).
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    async findAccount(ctx, sub) {
      const claims = accounts.get(sub);
      if (!claims) return undefined;
      return { accountId: sub, async claims() { return { ...claims, sub }; } };
    },
  });
  provider.proxy = true;
  return provider;
}

let current = build();
let handler = current.callback();

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const server = http.createServer(async (req, res) => {
  if (req.url === '/__accounts' && req.method === 'POST') {
    const claims = JSON.parse(await readBody(req));
    accounts.set(claims.sub, claims);
    res.writeHead(204).end();
    return;
  }
  if (req.url === '/__rotate' && req.method === 'POST') {
    current = build();
    handler = current.callback();
    res.writeHead(204).end();
    return;
  }
  handler(req, res);
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
