//! Keeps freed tensor memory in the process for the next batch.
//!
//! glibc's malloc serves every block above its mmap threshold (128 KiB at first, adapting to at
//! most 32 MiB) with a fresh mapping and unmaps it on free, and it trims the heap's free top back
//! to the kernel. A batch of 256 year-long curves allocates tensors of several MiB at every layer
//! (the attention scores: 256 × 4 heads × 64 × 64 floats, 16 MiB), so each forward pass faulted in
//! and zeroed new pages. Fixed thresholds keep that memory for reuse: the network ran 1,760 →
//! 2,250–2,330 curves/s on year-long curves with the same peak memory (docs/benchmarks.md).

/// Blocks up to this size come from the heap, not from their own mapping (glibc's upper limit on
/// 64-bit systems, `DEFAULT_MMAP_THRESHOLD_MAX`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: i32 = 32 << 20;
/// Free memory at the top of a heap kept before it is returned to the kernel.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_THRESHOLD: i32 = 64 << 20;

/// Sets the allocator's thresholds for batched inference and training, for the allocations that
/// follow. Call it once at start-up. Returns whether they were applied (only glibc has them; other
/// allocators keep their own policy).
pub fn keep_freed_tensor_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes malloc's parameters; it returns 0 for a value it refuses.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn glibc_accepts_the_thresholds() {
        assert!(super::keep_freed_tensor_memory());
    }
}
