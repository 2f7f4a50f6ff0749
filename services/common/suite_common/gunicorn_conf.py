"""Gunicorn settings for every service: ``gunicorn -c python:suite_common.gunicorn_conf``.

Threads suit these I/O-bound services (database, SMTP, HTTP between services);
WEB_CONCURRENCY sets the number of worker processes, GUNICORN_THREADS the threads each.

Slow clients: the worker is gthread with one change (suite_common.gunicorn_worker), so that a
client still sending its request holds no thread. gthread lets a thread read the request blocking
once a byte has come, so thirty clients trickling a header line every 3 s held all 8 threads and
``/healthz`` timed out; now each request is read in the worker's main loop, without blocking, and
reaches a thread only whole (its body too when up to 64 KiB), or is dropped after 10 s. Rejected:
gevent, because a blocking SQLite wait or a PDF rendering would stall every request of the worker
and psycopg would need patching; gunicorn's ``asgi`` worker, as the services are WSGI; a header
timeout alone, as 30 clients would still hold the threads until it expires. The compose proxy
(deploy/proxy/nginx.conf) buffers requests too, with the same 10 s timeouts.
"""
import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
# Two workers, about one per core of the 2-core hosts: more would only queue more transactions on a
# busy row (a sign-up burst on one event: bench/RESULTS.md §1) and compete for the same cores.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "suite_common.gunicorn_worker.BufferingThreadWorker"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
graceful_timeout = 10
keepalive = 5
accesslog = None  # the services log each request themselves, without personal data
# gunicorn's control socket lives at one path per user; several services on one host would fight over it.
control_socket_disable = True
# The longest request line gunicorn allows; longer ones get its HTML 414, documented on every operation.
limit_request_line = 8190
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
