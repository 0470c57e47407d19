// A real OpenID Connect provider for black-box tests: node-oidc-provider with its development
// interactions (a login form that accepts any account id and password, then a consent form).
//
// Environment:
//   PORT           port on 127.0.0.1 (0 = any free port) — the bound port is printed as the first
//                  line of stdout; the issuer is http://127.0.0.1:<port>
//   CLIENT_ID      the one client's id
//   CLIENT_SECRET  its secret (client_secret_basic)
//   REDIRECT_URI   its redirect URI (exact match); a port of `*` (e.g.
//                  http://localhost:*/cb) allows any port, for a relying party on port 0
//
// Accounts: any id. Claims: sub = id, email = "<id>@example.com" (or the id itself when it
// contains "@"), name = "User <id>", email_verified = true — except ids starting with
// "unverified-", whose email_verified is false. PKCE (S256) is required.

import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 0);
const clientId = process.env.CLIENT_ID || 'wrk';
const clientSecret = process.env.CLIENT_SECRET || 'wrk-secret';
const redirectUri = process.env.REDIRECT_URI;
if (!redirectUri) {
  console.error('REDIRECT_URI is required');
  process.exit(2);
}

// `http://host:*/path` → any port: registered with a placeholder port, matched by pattern.
const anyPort = redirectUri.includes(':*/');
const registered = anyPort ? redirectUri.replace(':*/', ':1/') : redirectUri;
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const pattern = new RegExp(
  '^' + redirectUri.split(':*/').map(escapeRe).join(':[0-9]{1,5}/') + '$',
);

const server = http.createServer();
server.listen(port, '127.0.0.1', () => {
  const bound = server.address().port;
  const issuer = `http://127.0.0.1:${bound}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [registered],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    // Put the scope's claims in the ID token (the relying party reads them from there).
    conformIdTokenClaims: false,
    async findAccount(ctx, id) {
      const email = id.includes('@') ? id : `${id}@example.com`;
      return {
        accountId: id,
        async claims() {
          return {
            sub: id,
            email,
            email_verified: !id.startsWith('unverified-'),
            name: `User ${id}`,
          };
        },
      };
    },
    cookies: { keys: ['wrk-test-cookie-key'] },
  });
  if (anyPort) {
    const allowed = provider.Client.prototype.redirectUriAllowed;
    provider.Client.prototype.redirectUriAllowed = function (value) {
      return pattern.test(value) || allowed.call(this, value);
    };
  }
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  server.on('request', provider.callback());
  console.log(bound);
});
