// A real OpenID Connect provider for black-box tests: node-oidc-provider with its development
// interactions (a login form that accepts any account id and password, then a consent form).
//
// Environment:
//   PORT           port on 127.0.0.1 (0 = any free port) — the bound port is printed as the first
//                  line of stdout; the issuer is http://127.0.0.1:<port>
//   CLIENT_ID      the one client's id
//   CLIENT_SECRET  its secret (client_secret_basic)
//   REDIRECT_URI   its redirect URI (exact match); a port of `*` (e.g.
//                  http://localhost:*/cb) registers the client as a native app with a loopback
//                  redirect URI, whose port the provider lets vary (RFC 8252 §7.3, built into
//                  node-oidc-provider), for a relying party on port 0
//   CLAIMS_IN_ID_TOKEN  `1`: offer no UserInfo endpoint (`features.userinfo` off); the provider
//                  then puts the scope's claims in the ID token (its documented rule)
//
// Otherwise the provider runs in its default, conformant configuration: with the
// authorization-code flow the scope's claims (email, email_verified, name) are NOT in the ID
// token; they come from the UserInfo endpoint (OpenID Connect Core §5.4).
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

// `http://localhost:*/path` → a native client with the loopback URI `http://localhost/path`.
const anyPort = redirectUri.includes(':*/');
const registered = anyPort ? redirectUri.replace(':*/', '/') : redirectUri;
const claimsInIdToken = process.env.CLAIMS_IN_ID_TOKEN === '1';

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
        ...(anyPort ? { application_type: 'native' } : {}),
      },
    ],
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      ...(claimsInIdToken ? { userinfo: { enabled: false } } : {}),
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
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
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  server.on('request', provider.callback());
  console.log(bound);
});
