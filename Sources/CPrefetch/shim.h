// Cache prefetch hints (Swift has none): the compiler's builtin, which emits PREFETCHT0/PREFETCHW on x86-64
// and PRFM on arm64. Hints only: they never fault, whatever the address.

/// Data about to be read.
static inline void vipscope_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// Data about to be written (a hash slot about to be filled, an object about to be retained).
static inline void vipscope_prefetch_for_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}
