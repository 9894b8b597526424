#!/usr/bin/env python3
"""The image's HEALTHCHECK: exit 0 when this container's role answers over HTTP.

BORDERFLOW_HEALTHCHECK_URL wins when set; otherwise the API's /health (200 only when the
broker and the database answer), else a worker's /metrics server."""

import os
import sys
import urllib.error
import urllib.request


def main() -> int:
    explicit = os.environ.get("BORDERFLOW_HEALTHCHECK_URL")
    urls = (
        [explicit]
        if explicit
        else [
            f"http://127.0.0.1:{os.environ.get('BORDERFLOW_API_PORT', '8000')}/health",
            f"http://127.0.0.1:{os.environ.get('BORDERFLOW_METRICS_PORT', '9100')}/metrics",
        ]
    )
    for url in urls:
        try:
            with urllib.request.urlopen(url, timeout=4) as response:
                if response.status == 200:
                    return 0
        except urllib.error.HTTPError as exc:
            sys.stderr.write(f"{url}: HTTP {exc.code}\n")
            return 1
        except OSError:
            continue
    sys.stderr.write(f"nothing answered: {', '.join(urls)}\n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
