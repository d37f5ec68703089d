"""How several workers on one PostgreSQL share the desk's once-only work (see crm_store.leases)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WorkerPolicy:
    # A worker without the lease tries to take it this often; the holder checks it still has it as often.
    # A dead holder's work is taken over within about this long (after the server notices it is gone).
    lease_seconds: float = 5.0
    # The holder looks this often for rows other workers queued (its own it sends at once).
    pickup_seconds: float = 0.5
