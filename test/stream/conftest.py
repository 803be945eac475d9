import os
import sys

# Reuse the Kinesis suite's server harness (start/kill/restart on one data dir, boto3 clients).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kinesis"))
