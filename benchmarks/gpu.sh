#!/usr/bin/env bash
# The GPU figures of the README's speed section (issue 5), as one short prepared script for a
# session that is lent an accelerator (the `device` tool; see /work/.library/device/README.md).
#
#   1. here, once:   bash benchmarks/gpu.sh fetch
#      (the device's Python 3.12 has torch, click and tabulate but not pydantic: its wheels go to
#      .whl/, which git ignores through .git/info/exclude)
#   2. on the device: run `bash benchmarks/gpu.sh run` with carry [".whl"] and timeout_s 540;
#      everything it prints is also written under $OUT.
#
# What it runs: `mininet bench` of the report's spec on the GPU with R = 20 and with R = 1000
# (20 epochs), then the test suite on a machine where CUDA is visible (the CUDA-only cases run).
# EPOCHS, REPEATS and DEVICE override the defaults (DEVICE=cpu tries the plumbing without a GPU).
set -uo pipefail
cd "$(dirname "$0")/.."

fetch() {
    grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        -d .whl pydantic==2.13.4 pydantic-core==2.46.4 annotated-types==0.7.0 typing-inspection==0.4.2
    ls .whl
}

run() {
    local out=${OUT:-gpu-out} device=${DEVICE:-cuda} repeats=${REPEATS:-5} epochs=${EPOCHS:-}
    mkdir -p "$out"
    if ! python3 -c "import pydantic" 2>/dev/null; then
        python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
            .whl/*.whl || exit 1
        export PYTHONPATH=/tmp/site
    fi
    export PYTHONPATH=".${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
    python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(),
                torch.cuda.get_device_name() if torch.cuda.is_available() else '')" | tee "$out/env.txt"
    local short=${epochs:+--epochs $epochs}
    timeout 200 python3 -m mininet bench specs/report/ce_momentum.toml --set device="$device" \
        --repeats "$repeats" $short 2>&1 | tee "$out/bench_r20.txt"
    timeout 200 python3 -m mininet bench specs/report/ce_momentum.toml --set device="$device" \
        --repeats "$repeats" --repetitions 1000 --epochs "${epochs:-20}" 2>&1 | tee "$out/bench_r1000.txt"
    timeout 120 python3 -m pytest -q -p no:cacheprovider 2>&1 | tail -20 | tee "$out/pytest.txt"
}

case "${1:-}" in
    fetch) fetch ;;
    run) run ;;
    *) echo "usage: bash benchmarks/gpu.sh fetch|run" >&2; exit 2 ;;
esac
