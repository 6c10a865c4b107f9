"""Service: the daemon that runs the stages in a cycle, and what an operator sees of it.

Cycle, leases and replicas (several daemons on one store), retention, status, the HTTP probes
and metrics, and logging. In: settings and a store. Out: cycles run, and their health.
"""
