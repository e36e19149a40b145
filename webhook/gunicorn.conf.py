"""gunicorn settings for the production webhook (``make serve``, the Dockerfile).

Every setting comes from the environment so one file serves a laptop, a VM and
a container: HOST, PORT, WEB_CONCURRENCY (worker processes), THREADS (per worker).
"""
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads let a worker keep answering while another request waits on a
# certificate download; the verifier's cache is thread-safe.
worker_class = "gthread"
threads = int(os.environ.get("THREADS", "4"))
# Alexa gives up after about 8 seconds; a request still running at 10 is lost anyway.
timeout = 10
graceful_timeout = 10
# Build the app once in the master: a missing SKILL_ID stops start-up right away,
# and workers share the loaded content.
preload_app = True
# The app logs one privacy-safe line per request; gunicorn's access log would add
# client addresses and nothing else useful.
accesslog = None
errorlog = "-"
# No runtime control socket: nothing here uses it, and several servers on one
# machine (tests, benchmarks) would fight over its fixed path.
control_socket_disable = True
