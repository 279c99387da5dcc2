"""ferryhost: the host side of Ferry's benchmarks (build, boot, parse, store, plot, compare)."""

# Version of the meta.json / sweep.json layout written by this package.  Bump it
# when a field changes meaning so readers of old results can tell.
RESULTS_SCHEMA = 1
