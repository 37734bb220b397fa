"""Parses FHIR resources (a JSON array in the file argv[1]) with the R4 (4.0.1) models
of PyPI fhir.resources 6.4.0, the last release whose top-level package is R4 (later
releases are R5, with R4B beside it): each must build its model without an error.
Usage: "$FHIR_TOOLS/venv/bin/python3" scripts/fhir/validate-models.py resources.json
"""

import json
import sys

from fhir.resources import __fhir_version__, construct_fhir_element

assert __fhir_version__ == "4.0.1", __fhir_version__
failed = 0
for resource in json.load(open(sys.argv[1], encoding="utf-8")):
    kind = resource.get("resourceType")
    try:
        construct_fhir_element(kind, resource)
    except Exception as e:  # noqa: BLE001 - every refusal is reported
        failed += 1
        print(f"{kind}/{resource.get('id')}: {e}")
print(f"fhir.resources: {failed} invalid")
sys.exit(1 if failed else 0)
