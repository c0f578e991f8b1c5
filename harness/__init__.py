"""Real processes for tests, the benchmark and the fault campaign (not the product).

``harness.processes``: a private ``redis-server``, real Celery workers, a switch of
this process's broker, and ``Stage`` (a scratch database, Redis, the demo partner
and a worker) for ``bench.delivery`` and ``bench.faults``.
"""
