"""Sample handler for the long-running-scheduled Lambda function of the Reference Architecture."""

import json
import time


def handler(event, context):
    started = time.time()
    # A real job would page through work here until it nears the function's timeout.
    remaining_ms = context.get_remaining_time_in_millis() if context else 0
    return {"statusCode": 200, "body": json.dumps({"started": started, "remaining_ms": remaining_ms})}
