"""`python -m devstack` (`make dev`): the whole service on this machine, until Ctrl-C.

On SIGINT or SIGTERM it stops everything it started within 10 s, also mid-work: the API server
and the functions process (queue pollers, stream relay, schedules) get one 4 s deadline together,
then both emulators get 4 s (SIGTERM, then SIGKILL). Every child also dies with this process if
it is killed outright.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from devstack.emulators import LOOPBACK, ROOT, Emulators, StackError, ensure_port_free


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("API_PORT", 8000)))
    parser.add_argument("--dynamodb-port", type=int, default=int(os.environ.get("DYNAMODB_PORT", 8001)))
    parser.add_argument("--localstack-port", type=int, default=int(os.environ.get("LOCALSTACK_PORT", 8002)))
    parser.add_argument("--log-dir", type=Path, help="default .cache/logs/stack-<API port>/ (one per stack)")
    args = parser.parse_args(argv)
    args.log_dir = args.log_dir or ROOT / ".cache" / "logs" / f"stack-{args.api_port}"
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):  # explicit: a background job starts with SIGINT ignored
        signal.signal(signum, lambda *_: stop.set())
    emulators = None
    try:
        ensure_port_free(args.api_port, "the API")
        emulators = Emulators.on_ports(args.dynamodb_port, args.localstack_port, args.log_dir / "localstack")
        emulators.start(args.log_dir)
        from devstack.stack import DevStack  # imports app code only once the env is set

        stack = DevStack.start(emulators, LOOPBACK, args.api_port)
        print(f"Turnstile API         {stack.api_url}", flush=True)
        print(f"DynamoDB Local        {emulators.dynamodb.url}", flush=True)
        print(f"LocalStack (SQS, S3)  {emulators.localstack.url}", flush=True)
        print(f"logs                  {args.log_dir}", flush=True)
        print("ready; Ctrl-C stops everything", flush=True)
        stop.wait()
        print("stopping", flush=True)
        stack.stop()
        return 0
    except StackError as error:
        print(f"make dev: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        if emulators is not None:
            emulators.stop()
        print("stopped", flush=True)


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is stopped or past its deadline: leave now rather than wait at exit for a thread
    # a library started (a connection pool, an executor), so the stack is gone within 10 s.
    os._exit(code)
