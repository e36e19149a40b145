"""gunicorn settings for the production webhook (``make serve``, the Dockerfile).

Every setting comes from the environment so one file serves a laptop, a VM and
a container: HOST, PORT, WEB_CONCURRENCY (worker processes), WORKER_CONNECTIONS
(open connections per worker). The app's own settings (SKILL_ID and others)
are in webhook/app.py and docs/serving.md.
"""
import os
import shutil
import tempfile

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gevent, plus a deadline for receiving each request (webhook/worker.py): a
# slow or stalled client holds one greenlet, never a thread the others need,
# and is cut when its request has not arrived within 5 s (head) + 10 s (body).
# Greenlets also let a worker keep answering while a certificate downloads.
worker_class = "webhook.worker.SlowClientWorker"
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "1000"))
# Idle kept-alive connections close after this; a started request head has
# the worker's own deadline (the same 5 s).
keepalive = 5
# A request head is held in memory, about twice its size, until it is complete
# or its 5 s are up; gunicorn's defaults (100 fields of 8190 bytes) let one
# connection pin about 1.6 MB. Alexa sends about ten headers (Host,
# Content-Type, Content-Length, Accept, Accept-Charset, User-Agent, Signature,
# Signature-256, SignatureCertChainUrl, Connection) and a proxy in front adds a
# few (X-Forwarded-*, a trace id): 32 fields is three times that. The longest
# line Alexa sends is Signature-256, 1,383 bytes with its name for the largest
# key the verifier accepts (8192-bit), and the verifier takes certificate URLs
# up to 2,048 characters: 4,096 bytes a field covers both. A head is now at most
# 4 KiB (request line) + 32 x 4 KiB, about 136 KB; more is answered 431 or 400.
limit_request_fields = 32
limit_request_field_size = 4096
# The worker heartbeat, not a request deadline: the master restarts a worker
# that has not checked in for this long (stuck in a loop, say). Requests are
# bounded elsewhere: arriving, by the worker's deadlines; answering, by the
# verifier's 2 s certificate fetch and the skill's own speed (milliseconds).
timeout = 10
graceful_timeout = 10
# Each worker loads the app after gevent has patched the standard library, so
# sockets, locks and threads in the app (the verifier's) are cooperative. A
# missing SKILL_ID still stops start-up: the first worker fails to boot and
# gunicorn exits.
preload_app = False
# The app logs one privacy-safe line per request; gunicorn's access log would add
# client addresses and nothing else useful.
accesslog = None
errorlog = "-"
# No runtime control socket: nothing here uses it, and several servers on one
# machine (tests, benchmarks) would fight over its fixed path.
control_socket_disable = True

# The workers share one directory of request ids already acted on
# (webhook/replays.py), so a replayed request that lands on another worker
# still finds the first one's mark. Made here, in the master, before the
# workers fork and inherit REPLAY_LEDGER_DIR; removed when the master exits.
_made_ledger_dir = []


def on_starting(server):
    if not os.environ.get("REPLAY_LEDGER_DIR"):
        os.environ["REPLAY_LEDGER_DIR"] = tempfile.mkdtemp(prefix="webhook-replays-")
        _made_ledger_dir.append(os.environ["REPLAY_LEDGER_DIR"])


def on_exit(server):
    for directory in _made_ledger_dir:
        shutil.rmtree(directory, ignore_errors=True)
