#!/bin/bash
# The bench on a machine lent for minutes (bench/results/vm-16cpu-*): install the wheels
# carried in .whl/ (the packages that machine lacks: scalene, dask, distributed, libcst,
# platformdirs and their needs, for its Python), check paradvise once on a sample (SMOKE=0
# skips it), then the bench at scale 1 under a time limit. Everything lands in $OUT.
# Run from the repository root there:  LIMIT=5 BENCH_TIMEOUT=420 bash bench/lent_machine.sh
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
SITE=${SITE:-/tmp/site}
PY=${PY:-python3}
$PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" .whl/*.whl || exit 3
export PYTHONPATH=$SITE PYTHONUNBUFFERED=1
{ nproc; $PY --version; $PY -c "import os, numpy, threadpoolctl, joblib; print(len(os.sched_getaffinity(0)), numpy.__version__, [(p['internal_api'], p['num_threads']) for p in threadpoolctl.threadpool_info()])"; } 2>&1 | tee "$OUT/log"
[ "${SMOKE:-1}" = 1 ] && timeout 60 $PY -m advisor profile samples/cpu_bound.py --json "$OUT/cpu_bound.json" 2>&1 | tee -a "$OUT/log"
timeout ${BENCH_TIMEOUT:-420} $PY bench/run.py --scale 1 --time-limit ${LIMIT:-6} \
  --only ${ONLY:-cpu_bound,hashing,numpy_arrays,http_fetch,uneven_tasks,mixed_work,limited_service,big_args,gil_release,blas_calls,subprocess_calls,async_fetch,uneven_durations,tiny_events,tiny_calls,global_state} 2>&1 | tee -a "$OUT/log"
new=$(ls -t bench/results/*.md | head -1); cp "$new" "${new%.md}.json" "$OUT/"
ls -la "$OUT"
