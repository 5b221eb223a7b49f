#!/usr/bin/env bash
# Search speed and relevance (issue 6): a generated corpus of 100,000 documents in English,
# French, Spanish and Arabic (a domain vocabulary drawn Zipf-like, 20 organisations, the four
# sharing levels), indexed by Nansen's index and by SQLite FTS5 in the same process; the same
# 1,000 queries with permissions, facet counts and snippets against both; and 70 judged
# queries (plus 20 with a typo) scored by nDCG@10. See crates/nansen-search/examples/search_bench.rs.
#
# Usage: bench/search.sh [DOCS]
set -euo pipefail
cd "$(dirname "$0")/.."
DOCS=${1:-100000}
cargo run --release --quiet -p nansen-search --example search_bench -- "$DOCS" target/bench/search
