"""Benchmark: start-up to the first answer. bot.py is started against the fake Bot API with a customer
message already waiting; the clock runs from the spawn to the reply reaching the fake.

The first run starts with an empty data folder (no store, no caches yet); the others reuse it, as a
restarted desk does. Prints wall time to the first answer per run, their
median, and the bot's CPU time for the whole run (start, one answer, stop), which the machine's load
changes less than wall time.

    .venv/bin/python bench/bench_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["NO_PROXY"] = "127.0.0.1,localhost"

from tests.fake_bot_api import FakeBotApi  # noqa: E402


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def first_answer(data: Path, run: int) -> tuple[float, float]:
    """Seconds from spawning bot.py to its first reply, and the CPU seconds bot.py used in all."""
    async with FakeBotApi() as fake:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DESK_")}
        env.update(
            DESK_DATABASE__URL=f"sqlite:///{data / 'crm.sqlite3'}",
            DESK_DATABASE__SPOOL_DIR=str(data / "spool"),
            DESK_KNOWLEDGE__CACHE_DIR=str(data / "cache"),
            DESK_TELEGRAM__TOKEN=fake.token,
            DESK_TELEGRAM__BASE_URL=fake.base_url,
            DESK_TELEGRAM__POLL_TIMEOUT="1",
            DESK_WEB__ENABLED="false",
            DESK_LOGGING__LEVEL="WARNING",
            NO_PROXY="127.0.0.1,localhost",
        )
        # A fresh fake counts update ids from 1 again: the reused store would take them for ones it has seen.
        fake._seq = run * 1000
        fake.push_text(4242, "怎么退货")
        cpu_before = children_cpu()
        begin = time.perf_counter()
        process = await asyncio.create_subprocess_exec(sys.executable, "bot.py", cwd=ROOT, env=env)
        try:
            await fake.wait_for("sendMessage", chat_id=4242, timeout=60)
            elapsed = time.perf_counter() - begin
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=30)
        return elapsed, children_cpu() - cpu_before


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    results = [asyncio.run(first_answer(data, run)) for run in range(args.runs)]
    for run, (seconds, cpu) in enumerate(results):
        label = f"run {run + 1}" + (" (empty data folder)" if run == 0 else "")
        print(f"{label:27}: first answer {seconds:.2f} s  CPU {cpu:.2f} s")
    warm = results[1:] or results
    print(
        f"restarts: first answer median {statistics.median(s for s, _ in warm):.2f} s  "
        f"CPU median {statistics.median(c for _, c in warm):.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
