"""OAuth access tokens: signed JWTs naming the org and the client (the hosted /v3/oauth shape).

HS256 with a key every server process shares (from the environment or a file: see
signing_keys.py), so any process verifies a token another issued. The token's header names
its key (`kid`): the previous key of a rotation still verifies the tokens it signed. Tokens
carry no permissions: the
client's access group and default till are read at each call, so removing or
changing a client takes effect at once, whatever tokens it holds.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import jwt

from memberbase.auth.signing_keys import SigningKey, SigningKeys

ISSUER = "memberbase"
ALGORITHM = "HS256"


@dataclass(frozen=True)
class TokenClaims:
    org_id: int
    client_key: str


class TokenInvalid(Exception):
    pass


class TokenExpired(Exception):
    def __init__(self, expired_at: dt.datetime) -> None:
        super().__init__(expired_at.isoformat())
        self.expired_at = expired_at


def issue(key: SigningKey, org_id: int, client_key: str, ttl_seconds: int, now: dt.datetime) -> str:
    payload = {
        "iss": ISSUER,
        "sub": client_key,
        "client_id": client_key,
        "org_id": org_id,
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + ttl_seconds,
        "jti": uuid.uuid4().hex,
        "token_use": "token_access",
    }
    return jwt.encode(payload, key.secret, algorithm=ALGORITHM, headers={"kid": key.kid})


def verify(keys: SigningKeys, token: str) -> TokenClaims:
    try:
        key = keys.by_kid(jwt.get_unverified_header(token).get("kid"))
    except jwt.PyJWTError as exc:
        raise TokenInvalid(str(exc)) from exc
    if key is None:  # no kid, or a key no longer accepted
        raise TokenInvalid("signed with a key this server does not accept")
    try:
        payload = jwt.decode(
            token,
            key.secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "iss", "sub", "org_id"]},
        )
    except jwt.ExpiredSignatureError as exc:
        unverified = jwt.decode(token, options={"verify_signature": False})
        raise TokenExpired(dt.datetime.fromtimestamp(int(unverified["exp"]), dt.UTC)) from exc
    except jwt.PyJWTError as exc:
        raise TokenInvalid(str(exc)) from exc
    if payload.get("token_use") != "token_access" or not isinstance(payload.get("org_id"), int):
        raise TokenInvalid("not an access token")
    return TokenClaims(org_id=payload["org_id"], client_key=str(payload["sub"]))
