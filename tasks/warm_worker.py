"""Imported by the cleaning workers' forkserver (``CleaningPool``): loads the cleaning code and its models once.

Every worker forked from that server starts with them loaded, and shares
their memory with it until written.
"""

import gc

from pagescrub.tasks.batch import warm_up

warm_up()

# Everything loaded so far lives as long as the workers: out of the collector's reach, a worker's
# collections never write to these objects' pages, which stay shared with this server (the
# pattern gc.freeze's documentation gives for fork without exec).
gc.freeze()
