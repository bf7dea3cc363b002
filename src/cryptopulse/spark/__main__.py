"""`python -m cryptopulse.spark …`: the spark-submit job run with a local (or PYSPARK_SUBMIT_ARGS) session."""

import sys

from cryptopulse.spark.job import main

sys.exit(main())
