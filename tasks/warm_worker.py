"""Imported by the cleaning workers' forkserver (``CleaningPool``): loads the cleaning code and its models once.

Every worker forked from that server starts with them loaded, and shares
their memory with it until written.
"""

from pagescrub.tasks.batch import warm_up

warm_up()
