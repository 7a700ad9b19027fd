-- Linking an existing account to a person's identity at the OpenID
-- provider. A login under way may be a linking, started by the account
-- it would link: the login's row names that account, and its return links
-- instead of opening a session. An account has at most one identity at a
-- provider, so two linkings finishing at once cannot both win.
ALTER TABLE sso_logins ADD COLUMN link_user_id INTEGER REFERENCES users (id);
CREATE UNIQUE INDEX sso_identities_one_per_account ON sso_identities (user_id, issuer);
