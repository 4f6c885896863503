/*
 * The inner loop of LutTokenLanes.lookup4 in C with AVX-512 intrinsics, to tell what the hardware allows
 * from what the JIT makes of it: 16 byte tables of 256 entries x 32 tokens (512 KB, in L2), one span of
 * bits as it lies in the layout, 4 half-words of 16-row vectors, 4 rows at a time in 8 accumulators, two 64-byte loads and two adds
 * per entry. An entry is 8 weights of 32 tokens (256 multiply-adds).
 *
 *   gcc -O3 -march=native bench/native/lookup.c -o /tmp/lookup && /tmp/lookup [rows] [reps] [entries]
 *
 * entries < 256 (e.g. 16) keeps the indexed part of every table in L1: the loop is then bound by loads alone.
 * Compare with bench/ab's LookupCeiling, which times the Java loop itself on the same shapes.
 */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TABLES 16
#define TOKENS 32

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    int rows = argc > 1 ? atoi(argv[1]) : 2048;
    int reps = argc > 2 ? atoi(argv[2]) : 3000;
    unsigned mask = (argc > 3 ? (unsigned) atoi(argv[3]) : 256) - 1;
    float *tables = aligned_alloc(64, TABLES * 256 * TOKENS * sizeof(float));
    for (int i = 0; i < TABLES * 256 * TOKENS; i++) {
        tables[i] = (float) (i % 97) * 0.01f;
    }
    /* (row / 16) * 64 + half * 16 + row % 16, as the bits of a span in the layout */
    uint32_t *bits = aligned_alloc(64, (size_t) rows * 4 * sizeof(uint32_t));
    srand(1);
    for (long i = 0; i < (long) rows * 4; i++) {
        bits[i] = (uint32_t) rand() * 2654435761u;
    }
    float *sums = aligned_alloc(64, (size_t) rows * TOKENS * sizeof(float));
    memset(sums, 0, (size_t) rows * TOKENS * sizeof(float));
    double best = 1e9;
    for (int rep = 0; rep < reps; rep++) {
        double t0 = now();
        for (int r = 0; r < rows; r += 4) {
            const uint32_t *b = bits + (r / 16) * 64 + r % 16;
            float *s = sums + (long) r * TOKENS;
            __m512 a0 = _mm512_load_ps(s), b0 = _mm512_load_ps(s + 16), a1 = _mm512_load_ps(s + 32), b1 = _mm512_load_ps(s + 48);
            __m512 a2 = _mm512_load_ps(s + 64), b2 = _mm512_load_ps(s + 80), a3 = _mm512_load_ps(s + 96), b3 = _mm512_load_ps(s + 112);
            const float *table = tables;
            for (int h = 0; h < 4; h++) {
                uint32_t w0 = b[h * 16], w1 = b[h * 16 + 1], w2 = b[h * 16 + 2], w3 = b[h * 16 + 3];
                for (int k = 0; k < 32; k += 8, table += 256 * TOKENS) {
                    const float *e0 = table + ((w0 >> k) & mask) * TOKENS, *e1 = table + ((w1 >> k) & mask) * TOKENS;
                    const float *e2 = table + ((w2 >> k) & mask) * TOKENS, *e3 = table + ((w3 >> k) & mask) * TOKENS;
                    a0 = _mm512_add_ps(a0, _mm512_load_ps(e0));
                    b0 = _mm512_add_ps(b0, _mm512_load_ps(e0 + 16));
                    a1 = _mm512_add_ps(a1, _mm512_load_ps(e1));
                    b1 = _mm512_add_ps(b1, _mm512_load_ps(e1 + 16));
                    a2 = _mm512_add_ps(a2, _mm512_load_ps(e2));
                    b2 = _mm512_add_ps(b2, _mm512_load_ps(e2 + 16));
                    a3 = _mm512_add_ps(a3, _mm512_load_ps(e3));
                    b3 = _mm512_add_ps(b3, _mm512_load_ps(e3 + 16));
                }
            }
            _mm512_store_ps(s, a0);
            _mm512_store_ps(s + 16, b0);
            _mm512_store_ps(s + 32, a1);
            _mm512_store_ps(s + 48, b1);
            _mm512_store_ps(s + 64, a2);
            _mm512_store_ps(s + 80, b2);
            _mm512_store_ps(s + 96, a3);
            _mm512_store_ps(s + 112, b3);
        }
        double t = now() - t0;
        if (t < best) {
            best = t;
        }
    }
    double entries = (double) rows * TABLES;
    float check = 0;
    for (int i = 0; i < rows * TOKENS; i++) {
        check += sums[i];
    }
    printf("C lookup, %d rows x %d tables of %u entries: best %.2f ns per entry, %.1f G multiply-adds/s (check %g)\n",
           rows, TABLES, mask + 1, best * 1e9 / entries, entries * 256 / best / 1e9, check);
    return 0;
}
