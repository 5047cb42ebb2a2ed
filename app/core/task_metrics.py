"""Prometheus figures of the task queue: outcomes of task runs and queue depth.

``zhongtai_task_runs_total{task, outcome}`` counts runs in the process that ran them
(a worker serves its own figures with ``flask tasks worker --metrics-port``; in-process
runs are counted by the web process). ``queue_depths`` reads the depth from Redis, so any
process can report it.
"""

from __future__ import annotations

import dramatiq
from dramatiq.middleware import Middleware
from prometheus_client import Counter

TASK_RUNS = Counter("zhongtai_task_runs_total", "Background task runs by outcome",
                    ["task", "outcome"])


class TaskOutcomes(Middleware):
    """Dramatiq middleware: count each processed message by outcome.

    Outcomes: ``succeeded``, ``failed`` (whether retries are left or not), ``skipped``.
    """

    def after_process_message(self, broker, message, *, result=None, exception=None):
        """Count one run of ``message.actor_name``."""
        outcome = "succeeded" if exception is None else "failed"
        TASK_RUNS.labels(message.actor_name, outcome).inc()

    def after_skip_message(self, broker, message):
        """Count a message a middleware decided not to run."""
        TASK_RUNS.labels(message.actor_name, "skipped").inc()


def queue_depths(broker: dramatiq.Broker) -> dict[tuple[str, str], int]:
    """Messages per declared queue: waiting, delayed (``.DQ``) and dead-lettered (``.XQ``).

    :param broker: a Dramatiq ``RedisBroker``.
    :returns: ``{(queue_name, state): count}`` with state ``ready``, ``delayed`` or ``dead``.
    :raises redis.RedisError: Redis unreachable.
    """
    client, namespace = broker.client, broker.namespace
    depths = {}
    for name in sorted(q for q in broker.get_declared_queues() if not q.endswith(".DQ")):
        depths[(name, "ready")] = client.llen(f"{namespace}:{name}")
        depths[(name, "delayed")] = client.llen(f"{namespace}:{name}.DQ")
        depths[(name, "dead")] = client.zcard(f"{namespace}:{name}.XQ")
    return depths
