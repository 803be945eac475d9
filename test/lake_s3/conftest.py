import os
import sys

# Reuse the Kinesis suite's server harness and the streaming suite's SQL helpers.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(_here, "..", "kinesis"))
sys.path.insert(0, os.path.join(_here, "..", "stream"))
