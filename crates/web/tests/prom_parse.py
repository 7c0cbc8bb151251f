"""Reads a Prometheus text exposition (format 0.0.4) on stdin with the
official Python client's parser, which raises on any malformed line, and
prints every sample as JSON: [[name, {labels}, value], ...] (+Inf as a
string). Used by crates/web/tests/metrics.rs."""
import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families

rows = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        v = s.value
        if math.isinf(v):
            v = "+Inf" if v > 0 else "-Inf"
        rows.append([s.name, dict(s.labels), v])
json.dump(rows, sys.stdout)
