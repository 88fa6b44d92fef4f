"""PyInstaller hook for rapidfuzz (the duplicate check, desktop.dedupe).

rapidfuzz ships every C++ extension twice, plain and AVX2, and picks the AVX2 one at run
time when the CPU has it, falling back to the plain one when it cannot be imported. The
plain build is plenty for scoring company names (a few dozen characters), so the AVX2
copies (~5 MB) stay out of the bundle.
"""

excludedimports = [
    "rapidfuzz.fuzz_cpp_avx2", "rapidfuzz.process_cpp_avx2", "rapidfuzz.utils_cpp_avx2",
    "rapidfuzz.distance.metrics_cpp_avx2", "rapidfuzz.distance._initialize_cpp_avx2",
]
