"""The model benchmark against our own loopback model server: the table in the README's
"Choosing a model" (it shows that the harness counts, not what a model is worth).

The server is the tests' `ArticleModel` (tests/e2e/test_bench_llm.py): an OpenAI-compatible
endpoint on 127.0.0.1 that answers with the article's first sentences. Arguments after the
script's name go to `secdigest bench llm`.

    .venv/bin/python bench/llm_loopback.py --shared ../shared/bench --concurrency 4
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.test_bench_llm import article_model  # noqa: E402 - after the path is set


def main() -> int:
    with article_model() as model, tempfile.TemporaryDirectory() as scratch:
        env = dict(
            os.environ,
            SECDIGEST_LLM_BASE_URL=model.base_url,
            SECDIGEST_LLM_MODEL="loopback-echo",
            SECDIGEST_DATABASE_URL=f"sqlite:///{scratch}/bench.db",
        )
        command = [sys.executable, "-m", "app.cli", "bench", "llm", "--out", scratch]
        return subprocess.run([*command, *sys.argv[1:]], env=env, cwd=ROOT, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
