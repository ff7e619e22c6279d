"""How the serving process and the media workers use Python's cyclic garbage collector.

Full collections scan every tracked object. With 2,000 signaling sockets open that took 130–390 ms, and
with the default thresholds one ran every few seconds under steady traffic (objects that outlive a young
collection are promoted, and a full collection follows once a quarter more have been promoted, even when
reference counting has long freed them): that pause was the whole tail of the signaling fan-out.
Measured with ``bench/signaling.py`` (mute changes at 500/s to rooms of five, 2,000 sockets): p99 696 ms
with the defaults, 18.7 ms with full collections at most every 1,000 middle-generation ones.

Cyclic garbage then waits longer to be freed (minutes rather than seconds): memory is the cheaper price.
What start-up made is frozen out of every collection: it lives as long as the process.
"""

from __future__ import annotations

import gc

FULL_COLLECTION_EVERY = 1000
"""Middle-generation collections between two full ones (Python's default is 10)."""


def settle_after_startup() -> None:
    """Freeze what start-up made and space out full collections. Call once, when start-up is done."""
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)
