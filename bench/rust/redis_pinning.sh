#!/bin/bash
# (Redis − memory) / PING, three times each with the Rust harness and its redis-server unpinned, both on
# CPU 0, and split over CPUs 0 and 1 (BENCH_ONLY=redis; docs/verifier.md reads the result). Run from the
# repository root after make bench-rust (it builds target/release/trustcore-bench).
bin=${1:-target/release/trustcore-bench}
run() {
	local mode=$1 out
	case $mode in
	free) out=$(BENCH_ONLY=redis $bin - 2>&1) ;;
	one) out=$(BENCH_ONLY=redis taskset -c 0 $bin - 2>&1) ;;
	split) out=$( (BENCH_ONLY=redis taskset -c 1 $bin - 2>&1 & pid=$!; sleep 0.3; taskset -a -p -c 0 $pid >/dev/null; wait $pid) ) ;;
	esac
	echo "$out" | awk -v mode=$mode '/per_request_cached_redis:/{r=$3} /redis_ping:/{p=$3} /redis_admission:/{a=$3} /beside_redis:/{m=$3} /batch64_one_by_one_redis:/{o=$3} /batch64_redis:/{b=$3}
		END {printf "%-5s redis %6.1f memory %6.1f ping %5.1f script %5.1f  (redis-memory)/ping %.2f  batch64 %.2fx\n", mode, r, m, p, a, (r-m)/p, o/b}'
}
for round in 1 2 3; do for mode in free one split; do run $mode; done; done
