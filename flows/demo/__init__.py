"""Demo data: about forty realistic cases with 90 days of history.

Everything goes through the real services with the clock moved into the
past (`config.clock.frozen_at`), so the history, the StatusChange rows and
the audit trail are exactly what real use would have left. The cases and
texts are in `data`, the replay in `replay`.
"""

from flows.demo.replay import seed_cases

__all__ = ["seed_cases"]
