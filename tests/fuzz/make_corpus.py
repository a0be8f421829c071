#!/usr/bin/env python3
"""Write the seed corpus of the fuzz targets (tests/fuzz/corpus/{ops,regions}).

Each seed is a small program in the byte format the target reads (see the
op_* functions of fuzz_ops.c and fuzz_regions.c). The seeds cover every
operation, each algorithm (an algorithm byte is taken modulo the number of
algorithms compiled in, so 0 and 1 are first-fit and buddy when both are
there), refusals and bad pointers. Output is deterministic; run it again
after changing the input format:

    python3 tests/fuzz/make_corpus.py
"""
import os
import random
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def u8(v):
    return struct.pack("<B", v & 0xFF)


def u16(v):
    return struct.pack("<H", v & 0xFFFF)


def u32(v):
    return struct.pack("<I", v & 0xFFFFFFFF)


# ---- fuzz_ops ---------------------------------------------------------------

SMALL, MEDIUM, LARGE, SPECIAL = 0x00, 0x40, 0x80, 0xC0


def ops_head(heap_b=True, algs=(0, 0, 0, 0, 0, 0), offs=(3, 17, 41, 5, 63, 9), trims=(1, 77, 13, 0, 127, 31)):
    """Heap A (3 regions), heap B (2, if asked), system heap (1)."""
    out = u8(1 if heap_b else 0)
    for i in [0, 1, 2] + ([3, 4] if heap_b else []) + [5]:
        out += u8(algs[i]) + u8(offs[i]) + u8(trims[i])
    return out


def size(cls, v):
    return u8(cls) + u16(v)


def op_alloc(heap, cls, v, seed=0x5A):
    return u8(0) + u8(heap) + size(cls, v) + u8(seed)


def op_aligned(heap, align_idx, cls, v, seed=0x33):
    return u8(3) + u8(heap) + u8(align_idx) + size(cls, v) + u8(seed)


def op_free(idx):
    return u8(4) + u16(idx)


def op_realloc(mode, delta, target, seed=0x11):
    # mode 3 (from NULL) takes a heap byte, the others a block index
    tail = u8(target) if mode == 3 else u16(target)
    return u8(6) + u8(mode) + u16(delta) + u8(seed) + tail


def op_bad_free(kind, v, heap=0):
    return u8(8) + u8(kind) + u16(v) + u8(heap)


def op_calloc(kind, v, seed=0x77):
    return u8(9) + u8(kind) + u16(v) + u8(seed)


def op_usable(idx):
    return u8(10) + u16(idx)


def op_check():
    return u8(11)


def ops_seeds():
    seeds = {}
    for alg in (0, 1):
        a = (alg,) * 6
        body = b"".join(op_alloc(h, SMALL, 10 + 7 * h) for h in range(3))
        body += op_alloc(0, MEDIUM, 700) + op_alloc(1, LARGE, 5000) + op_free(1) + op_check()
        seeds["alloc_free_alg%d" % alg] = ops_head(True, a) + body
        seeds["aligned_powers_alg%d" % alg] = ops_head(True, a) + b"".join(
            op_aligned(i % 3, i, SMALL if i % 2 else MEDIUM, 33 * i + 1) for i in range(14))
        seeds["aligned_refused_alg%d" % alg] = ops_head(False, a) + b"".join(
            op_aligned(0, 14 + i, SMALL, 40) for i in range(10))
        seeds["realloc_all_alg%d" % alg] = ops_head(True, a) + op_alloc(0, SMALL, 40) + op_alloc(1, MEDIUM, 300) + \
            op_realloc(0, 200, 0) + op_realloc(1, 50, 1) + op_realloc(3, 900, 1) + op_realloc(4, 3, 0) + \
            op_realloc(4, 4, 1) + op_realloc(2, 0, 0) + op_realloc(0, 4000, 0) + op_check()
        seeds["bad_frees_alg%d" % alg] = ops_head(True, a) + op_alloc(0, MEDIUM, 500) + op_alloc(1, SMALL, 60) + \
            op_alloc(2, SMALL, 24) + op_free(2) + b"".join(op_bad_free(k, 0x1234 * (k + 1), k % 3) for k in range(5)) + \
            op_bad_free(0, 0x0F31) + op_bad_free(3, 0x0102)
        seeds["calloc_alg%d" % alg] = ops_head(False, a) + op_calloc(0, 0x1234) + op_calloc(1, 50) + \
            op_calloc(2, 0x2222) + op_calloc(3, 0x7FFF) + op_usable(0) + op_free(0)
        seeds["huge_sizes_alg%d" % alg] = ops_head(False, a) + b"".join(
            op_alloc(i % 3, SPECIAL, v) for i, v in enumerate((0, 1, 2, 3, 4, 9, 0xFFF1, 0x8002))) + \
            op_aligned(0, 13, SPECIAL, 1) + op_aligned(0, 7, SPECIAL, 4)
        seeds["fill_to_failure_alg%d" % alg] = ops_head(False, a) + b"".join(
            op_alloc(0, LARGE, 3000 + 611 * i) for i in range(12)) + op_check() + b"".join(op_free(0) for _ in range(12))
    seeds["mixed_algs"] = ops_head(True, (0, 1, 0, 1, 0, 1)) + b"".join(
        op_alloc(i % 3, MEDIUM, 97 * i) for i in range(20)) + b"".join(op_free(7 * i) for i in range(10))
    seeds["mixed_algs_rev"] = ops_head(True, (1, 0, 1, 0, 1, 0)) + b"".join(
        op_aligned(i % 3, 5 + i % 9, SMALL, 13 * i) for i in range(16)) + op_realloc(0, 2000, 3) + op_check()
    seeds["usable_writes"] = ops_head(True) + op_alloc(0, SMALL, 3) + op_usable(0) + op_realloc(0, 17, 0) + \
        op_usable(0) + op_realloc(1, 5, 0)
    # random programs over the full op set
    rng = random.Random(20240601)
    for n in range(12):
        algs = tuple(rng.randrange(2) for _ in range(6))
        body = bytearray()
        for _ in range(rng.randrange(30, 120)):
            body += u8(rng.randrange(12))
            body += bytes(rng.randrange(256) for _ in range(6))
        seeds["random_%02d" % n] = ops_head(bool(n & 1), algs, tuple(rng.randrange(64) for _ in range(6)),
                                            tuple(rng.randrange(128) for _ in range(6))) + bytes(body)
    return seeds


# ---- fuzz_regions -------------------------------------------------------------


def r_add(heap, alg, kind, off, skind, sv):
    return u8(0) + u8(heap) + u8(alg) + u8(kind) + u32(off) + u8(skind) + u32(sv)


def r_nested(blk, heap, alg, kind, v, w):
    return u8(2) + u8(blk) + u8(heap) + u8(alg) + u8(kind) + u16(v) + u16(w)


def r_alloc(heap, v, seed=0x21, big=1):
    return u8(3) + u8(heap) + u16(v) + u8(seed) + u8(big)


def r_free(blk):
    return u8(5) + u8(blk)


def r_realloc(blk, v):
    return u8(6) + u8(blk) + u16(v)


def r_reinit(heap):
    return u8(7) + u8(heap)


SZ_ZERO, SZ_TINY, SZ_SMALL, SZ_BIG, SZ_ANY = 0, 1, 2, 3, 4


def regions_seeds():
    seeds = {}
    for alg in (0, 1):
        seeds["two_heaps_alg%d" % alg] = r_add(0, alg, 5, 3, SZ_SMALL, 4000) + r_add(1, alg, 5, 9001, SZ_BIG, 7000) + \
            r_alloc(0, 100) + r_alloc(1, 3000) + r_free(0) + r_alloc(0, 10)
        seeds["sizes_alg%d" % alg] = b"".join(r_add(i % 4, alg, 7, 1000 * i + i, sk, 37 * i)
                                              for i, sk in enumerate((SZ_ZERO, SZ_TINY, SZ_TINY, SZ_SMALL, SZ_BIG)))
        seeds["overlaps_alg%d" % alg] = r_add(0, alg, 4, 100, SZ_SMALL, 3000) + r_add(0, alg, 4, 900, SZ_SMALL, 500) + \
            r_add(1, alg, 4, 50, SZ_SMALL, 300) + r_add(2, alg, 4, 2000, SZ_SMALL, 8000) + r_alloc(0, 50)
        seeds["wrap_and_null_alg%d" % alg] = r_add(0, alg, 0, 77, SZ_TINY, 5) + r_add(1, alg, 1, 5, SZ_SMALL, 9) + \
            r_add(2, alg, 2, 0, SZ_SMALL, 900)
        seeds["nested_alg%d" % alg] = r_add(0, alg, 5, 64, SZ_BIG, 6000) + r_alloc(0, 4000, big=0) + \
            r_nested(0, 1, alg, 3, 16, 3000) + r_alloc(1, 200) + r_nested(0, 2, alg, 2, 0, 0) + \
            r_nested(0, 0, alg, 3, 8, 1000) + r_realloc(0, 5000) + r_alloc(1, 64) + r_check_all() + r_free(0)
        seeds["nested_bad_alg%d" % alg] = r_add(0, alg, 5, 0, SZ_BIG, 9000) + r_alloc(0, 3000, big=0) + \
            r_nested(0, 1, alg, 0, 3, 500) + r_nested(0, 1, alg, 1, 100, 7) + r_alloc(0, 900) + r_free(1) + \
            r_add(2, alg, 5, 3000, SZ_SMALL, 100)
        seeds["nested_deep_alg%d" % alg] = r_add(0, alg, 5, 8, SZ_BIG, 12000) + r_alloc(0, 8000, big=0) + \
            r_nested(0, 1, alg, 3, 0, 7000) + r_alloc(1, 3000, big=0) + r_nested(1, 2, alg, 3, 0, 2900) + \
            r_alloc(2, 100) + r_reinit(0) + r_reinit(1) + r_reinit(2) + r_free(1) + r_free(0)
        seeds["reinit_alg%d" % alg] = r_add(3, alg, 5, 5000, SZ_SMALL, 2000) + r_alloc(3, 40) + r_reinit(3) + \
            r_add(3, alg, 5, 5000, SZ_SMALL, 2000) + r_alloc(3, 40)
    seeds["mixed_nested"] = r_add(0, 0, 5, 11, SZ_BIG, 9000) + r_alloc(0, 5000, big=0) + r_nested(0, 1, 1, 3, 1, 4000) + \
        r_alloc(1, 500) + r_nested(1, 3, 0, 2, 0, 0) + r_free(0)
    rng = random.Random(7)
    for n in range(10):
        body = bytearray()
        for _ in range(rng.randrange(10, 40)):
            body += u8(rng.randrange(8))
            body += bytes(rng.randrange(256) for _ in range(12))
        seeds["random_%02d" % n] = bytes(body)
    return seeds


def r_check_all():
    # any operation verifies every heap; a free of a missing block is a no-op
    return r_free(255)


def write(kind, seeds):
    d = os.path.join(HERE, "corpus", kind)
    os.makedirs(d, exist_ok=True)
    for name, data in sorted(seeds.items()):
        with open(os.path.join(d, "seed_" + name), "wb") as f:
            f.write(data)
    print("%s: %d seeds" % (kind, len(seeds)), file=sys.stderr)


if __name__ == "__main__":
    write("ops", ops_seeds())
    write("regions", regions_seeds())
