#!/usr/bin/env bash
# One-off GPU check of Lantern (not CI): run on the device machine from the repo root.
#
# Builds llama-cpp-python 0.3.36 with CUDA (sm_90) from the trimmed sdist in .gpucheck/
# (or unpacks a build brought back by an earlier run from .gpucheck/prebuilt/), then runs
# bench/gpu_check.py. Everything lands in $OUT: log, build.log, gpu_check.json, llama.log
# and the built package as llama_cpp_cuda.tar.xz.* parts (for a rerun without a rebuild).
#
# .gpucheck/ (ignored via .git/info/exclude, carried by the device tool) holds:
#   llama_cpp_python-0.3.36-trimmed.tar.gz  the sdist without models, docs, tests, other backends
#   model/smollm2-4blk.gguf                 python -m bench.gpu_check_model SMOLLM2 ... --keep 4
#   whl/diskcache-*.whl whl/gguf-*.whl      pure-Python packages missing on the device
#
#   BUDGET=520 scripts/gpu_check.sh          # seconds for the whole script
set -o pipefail
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/gpu_check_out}
BUDGET=${BUDGET:-520}
G=${G:-.gpucheck}
PY=${PY:-python3}
SITE=${SITE:-/tmp/site}
mkdir -p "$OUT"
T0=$(date +%s)
left() { echo $((T0 + BUDGET - $(date +%s))); }

main() {
    echo "== $(date -u +%FT%TZ) gpu_check on $(hostname), budget ${BUDGET}s"
    nvidia-smi || echo "nvidia-smi failed"
    nvcc --version | tail -2
    $PY --version; nproc; free -g | head -2
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target $SITE $G/whl/*.whl || return 1
    export PYTHONPATH=$SITE
    $PY -m pip show scikit-build-core cmake ninja jinja2 numpy psutil 2>/dev/null | grep -E '^(Name|Version)'

    # SmolLM2's shapes: the 4 carried blocks cycled to 30 (in the background, during the build)
    $PY -m bench.gpu_check_model $G/model/smollm2-4blk.gguf /tmp/smollm2-deep30.gguf \
        --depth 30 > "$OUT/deep.log" 2>&1 &
    local deep_pid=$!

    if ls $G/prebuilt/llama_cpp_cuda.tar.xz.* > /dev/null 2>&1; then
        echo "== unpacking the build brought back by an earlier run"
        cat $G/prebuilt/llama_cpp_cuda.tar.xz.* | xz -d | tar -C $SITE -x || return 1
    else
        build || return 1
    fi
    export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${EXTRA_LIBS:-}:${LD_LIBRARY_PATH:-}
    ls -la $SITE/llama_cpp/lib
    wait $deep_pid; cat "$OUT/deep.log"; rm -f "$OUT/deep.log"
    echo "== $(( $(date +%s) - T0 ))s: checks ($(left)s left)"
    $PY -m bench.gpu_check --model $G/model/smollm2-4blk.gguf --deep /tmp/smollm2-deep30.gguf \
        --out "$OUT" --deadline $((T0 + BUDGET - 5)) --step-timeout 200 ${CHECK_ARGS:-}
    echo "== $(( $(date +%s) - T0 ))s: done"
    nvidia-smi --query-gpu=name,memory.used,memory.total,clocks.sm --format=csv || true
}

build() {
    rm -rf /tmp/src && mkdir -p /tmp/src && tar -C /tmp/src -xzf $G/llama_cpp_python-0.3.36-trimmed.tar.gz || return 1
    local extra=""
    if [ ! -e /usr/local/cuda/include/cublas_v2.h ]; then
        # cuBLAS from the pip wheel (nvidia-cublas) when the toolkit has none
        local h; h=$(find / -xdev -name cublas_v2.h -not -path '/proc/*' 2>/dev/null | head -1)
        echo "== no cublas_v2.h in /usr/local/cuda; found: ${h:-none}"
        if [ -n "$h" ]; then
            local d; d=$(dirname "$(dirname "$h")")
            mkdir -p /tmp/cublas
            for lib in cublas cublasLt; do
                ln -sf "$(ls "$d"/lib/lib$lib.so.* | head -1)" /tmp/cublas/lib$lib.so
            done
            extra="-DCUDA_cublas_LIBRARY=/tmp/cublas/libcublas.so -DCUDA_cublasLt_LIBRARY=/tmp/cublas/libcublasLt.so -DCMAKE_CUDA_FLAGS=-I$d/include -DCMAKE_CXX_FLAGS=-I$d/include"
            export EXTRA_LIBS="$d/lib" LIBRARY_PATH="$d/lib:${LIBRARY_PATH:-}"
        fi
    fi
    export CMAKE_ARGS="-DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=90 $extra"
    export CMAKE_BUILD_PARALLEL_LEVEL=16 CMAKE_GENERATOR=Ninja
    echo "== $(( $(date +%s) - T0 ))s: building with CMAKE_ARGS=$CMAKE_ARGS"
    local t=$(date +%s)
    timeout $(( $(left) - 60 )) $PY -m pip install -v --no-deps --no-build-isolation \
        --no-cache-dir --target $SITE -C build-dir=/tmp/llbuild \
        /tmp/src/llama_cpp_python-0.3.36 > "$OUT/build.log" 2>&1
    local rc=$?
    echo "== build rc=$rc in $(( $(date +%s) - t ))s"
    if [ $rc -ne 0 ]; then
        grep -n -i -E "error|fail" "$OUT/build.log" | head -40
        tail -40 "$OUT/build.log"
        return 1
    fi
    grep -E "CUDA Toolkit found|CMAKE_CUDA_ARCHITECTURES|Including CUDA" "$OUT/build.log" | head -5
    gzip -9 "$OUT/build.log"
    [ "${ARCHIVE:-1}" = 1 ] || return 0
    # the built package comes back in parts under 16 MB (for a rerun without a rebuild);
    # pip installs each library three times (.so, .so.0, .so.0.x): keep one, link the rest
    (cd $SITE/llama_cpp/lib && for f in *.so; do for g in "$f".*; do
        [ -f "$g" ] && [ ! -L "$g" ] && cmp -s "$f" "$g" && ln -sf "$f" "$g"; done; done)
    tar -C $SITE -cf - llama_cpp | xz -T16 -3 | split -b 15m - "$OUT/llama_cpp_cuda.tar.xz."
    ls -la "$OUT"
    local total; total=$(du -cb "$OUT"/llama_cpp_cuda.tar.xz.* | tail -1 | cut -f1)
    if [ "$total" -gt 47000000 ] || [ "$(ls "$OUT"/llama_cpp_cuda.tar.xz.* | wc -l)" -gt 3 ]; then
        echo "== the build is too big to come back ($total bytes): dropped"
        rm -f "$OUT"/llama_cpp_cuda.tar.xz.*
    fi
}

main 2>&1 | tee "$OUT/log"
