// A certified OpenID provider (oidc-provider) on loopback for Sello's
// single sign-on tests. It listens on a free port of 127.0.0.1 and prints
// `ESCUCHANDO <port>` once ready. One confidential client, from the
// environment (SELLO_OIDC_CLIENT_ID, SELLO_OIDC_CLIENT_SECRET,
// SELLO_OIDC_REDIRECT_URI); the accounts below. The login and consent
// screens are replaced by one step the test takes:
// GET /interaction/<uid>?cuenta=<account> logs that account in and grants
// the scopes asked, as a person would by filling the forms.
import http from 'node:http';
import Provider from 'oidc-provider';

const ACCOUNTS = {
  ana: {
    name: 'Ana Ruiz Medina',
    email: 'ana.ruiz@dif.example',
    preferred_username: 'ana.ruiz',
    groups: ['dif-firmantes'],
  },
  beto: {
    name: 'Alberto Sánchez',
    email: 'beto@dif.example',
    preferred_username: 'beto',
    groups: ['mantenimiento'],
  },
};

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = server.address().port;
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.SELLO_OIDC_CLIENT_ID,
      client_secret: process.env.SELLO_OIDC_CLIENT_SECRET,
      redirect_uris: [process.env.SELLO_OIDC_REDIRECT_URI],
      post_logout_redirect_uris: [process.env.SELLO_OIDC_POST_LOGOUT_URI || process.env.SELLO_OIDC_REDIRECT_URI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email'],
    groups: ['groups'],
  },
  scopes: ['openid', 'profile', 'email', 'groups'],
  conformIdTokenClaims: false,
  cookies: { keys: ['clave-de-las-cookies-de-prueba'] },
  features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
  findAccount: async (_ctx, id) => {
    const claims = ACCOUNTS[id];
    if (!claims) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
  },
});

const callback = provider.callback();
server.on('request', async (req, res) => {
  const url = new URL(req.url, issuer);
  if (!url.pathname.startsWith('/interaction/')) {
    callback(req, res);
    return;
  }
  try {
    const details = await provider.interactionDetails(req, res);
    const accountId = url.searchParams.get('cuenta');
    if (!ACCOUNTS[accountId]) {
      res.statusCode = 400;
      res.end('cuenta desconocida');
      return;
    }
    const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  } catch (error) {
    res.statusCode = 500;
    res.end(String(error));
  }
});

console.log(`ESCUCHANDO ${port}`);
