"""SamenWeten core: configuration, models, store, retrieval, answering and the command line."""

import os

__version__ = "0.1.0"

# OpenMP threads that wait for work sleep instead of spinning. Several SamenWeten processes take turns at the
# cores (the embedding lock, kb.embeddings.embed_lock); spinning threads of the process that just handed over
# the lock burned the cores the other one was computing on: two concurrent ingests took 1.26-1.29x the time of
# one after the other, 0.82x with passive waiting (bench/run_concurrency_bench.py, README). Read by the OpenMP
# runtime when torch loads, so it is set before anything imports torch; an OMP_WAIT_POLICY of your own wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
