"""The bare endpoint of the read benchmark: the same bytes, from memory, with no work at all.

bench/read.py fetches what each secdigest endpoint answered (body, Content-Type and
Content-Encoding), writes it down with a manifest, and starts this app on it. It is the
ceiling a cached read can reach on this machine: a minimal FastAPI app, routed on the same
paths, served by uvicorn the way `secdigest serve` is (httptools, the default event loop,
no access log, no server header), one process.

    .venv/bin/python bench/read_bare.py --manifest DIR/manifest.json --port 8001
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request, Response


def load(manifest: Path) -> dict[str, tuple[bytes, dict[str, str]]]:
    """`path?query` -> (body, headers) of every endpoint the manifest names."""
    entries = json.loads(manifest.read_text(encoding="utf-8"))
    return {
        entry["target"]: ((manifest.parent / entry["file"]).read_bytes(), entry["headers"])
        for entry in entries
    }


def create_app(answers: dict[str, tuple[bytes, dict[str, str]]]) -> FastAPI:
    """Routes shaped like secdigest's (`/reports`, `/reports/{day}`), answering stored bytes."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    def answer(request: Request) -> Response:
        query = request.url.query
        target = request.url.path + (f"?{query}" if query else "")
        found = answers.get(target)
        if found is None:
            return Response(status_code=404)
        body, headers = found
        return Response(content=body, headers=headers)

    # Path parameters like the real routes, so that routing costs what it costs there.
    @app.get("/reports")
    async def list_reports(request: Request) -> Response:
        return answer(request)

    @app.get("/reports/{day}")
    async def get_report(day: str, request: Request) -> Response:
        return answer(request)

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    return app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        create_app(load(args.manifest)),
        host=args.host,
        port=args.port,
        http="httptools",  # what `serve` runs (its protocol is a subclass of this one)
        access_log=False,
        server_header=False,
        log_level="warning",
        log_config=None,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
