"""portflow's benchmarks (issue 11): ``python -m bench``; see bench/README.md."""
