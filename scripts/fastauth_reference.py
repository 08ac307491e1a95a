"""Drive Python FastAuth (PyPI sreekarnv-fastauth) against a SQLite file, for fastauth's
compatibility test.

Usage:
    fastauth_reference.py register DB_PATH SECRET EMAIL PASSWORD
        Creates FastAuth's tables, registers a user through FastAuth's HTTP API and prints
        {"status", "body"} of the response as JSON.
    fastauth_reference.py login DB_PATH SECRET EMAIL PASSWORD
        Logs in through FastAuth's HTTP API and prints {"status", "body"}; then, if the login
        succeeded, calls GET /auth/me with the access token and adds {"me"}.

Every request goes to the FastAPI app in-process (httpx's ASGI transport): no socket.
"""

import asyncio
import json
import sys

import httpx
from fastapi import FastAPI
from fastauth import FastAuth, FastAuthConfig
from fastauth.adapters.sqlalchemy import SQLAlchemyAdapter
from fastauth.providers.credentials import CredentialsProvider


async def main(command: str, db_path: str, secret: str, email: str, password: str) -> None:
    adapter = SQLAlchemyAdapter(engine_url=f"sqlite+aiosqlite:///{db_path}")
    config = FastAuthConfig(
        secret=secret,
        providers=[CredentialsProvider()],
        adapter=adapter.user,
        token_adapter=adapter.token,
        base_url="http://localhost:8000",
    )
    auth = FastAuth(config)
    app = FastAPI()
    auth.mount(app)
    await adapter.create_tables()

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://reference") as client:
        if command == "register":
            response = await client.post(
                "/auth/register", json={"email": email, "password": password, "name": "Ada"}
            )
            result = {"status": response.status_code, "body": response.json()}
        elif command == "login":
            response = await client.post(
                "/auth/login", json={"email": email, "password": password}
            )
            result = {"status": response.status_code, "body": response.json()}
            if response.status_code == 200:
                token = response.json()["access_token"]
                me = await client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
                result["me"] = {"status": me.status_code, "body": me.json()}
        else:
            raise SystemExit(f"unknown command {command!r}: expected register or login")
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) != 6:
        raise SystemExit(__doc__)
    asyncio.run(main(*sys.argv[1:]))
