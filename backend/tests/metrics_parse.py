"""Parses wxh5's /metrics with the Prometheus project's own Python client
parser (`prometheus_client.parser`, not wxh5's code): reads the exposition
on stdin and prints its families as JSON, [{"name", "type", "samples":
[{"name", "labels", "value"}]}]. Exits non-zero when the text does not
parse."""

import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    families = []
    for family in text_string_to_metric_families(sys.stdin.read()):
        samples = []
        for sample in family.samples:
            value = sample.value
            samples.append({
                "name": sample.name,
                "labels": dict(sample.labels),
                # JSON has no infinity; no wxh5 sample should be one.
                "value": value if math.isfinite(value) else str(value),
            })
        families.append({"name": family.name, "type": family.type, "samples": samples})
    json.dump(families, sys.stdout)


if __name__ == "__main__":
    main()
