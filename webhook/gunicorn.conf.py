"""gunicorn settings for the production webhook (``make serve``, the Dockerfile).

Every setting comes from the environment so one file serves a laptop, a VM and
a container: HOST, PORT, WEB_CONCURRENCY (worker processes), WORKER_CONNECTIONS
(open connections per worker).
"""
import os

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
